import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// One zod, extended once for OpenAPI, shared by every schema of the platform.
extendZodWithOpenApi(z);

export { z };
