import { Router, type Response } from 'express';
import { z } from '../../domain/z';
import { loadCatalog } from '../../db/catalog';
import { contentDisposition, csvTemplate, templateFileName } from '../../domain/templates';
import type { CatalogItem } from '../../domain/catalog';
import type { AppDeps } from '../app';
import { HttpError } from '../errors';
import { document, errorAnswer } from '../openapi';
import { xlsxTemplate } from '../templates';

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const tags = ['目录 Catalog'];
const ItemCode = z.object({ code: z.string().max(64).openapi({ example: 'E-PENALTY' }) });
const notFoundResponse = {
  404: errorAnswer(
    '目录中没有该信息项 / no such catalog item',
    new HttpError(404, 'NOT_FOUND', '目录中没有信息项 E-PENALTI / no catalog item E-PENALTI', [
      { field: 'code', reason: '见 GET /catalog / see GET /catalog' },
    ]),
  ),
};
const LAYOUT =
  '表头为“*中文名（字段代码）”，* 为必填；先是适用于该类信息的记录列（item_code、subject_id、event_date、concluded_date，诚信信息另有 valid_until，警示信息另有 lifted_date），再是该信息项的字段；第 2 行是示例行（item_code 以 # 开头的说明行，不入库）。/ Header cells "*label (code)", * required: the record columns that apply to the category (valid_until for honors, lifted_date for warnings), then the payload fields; row 2 is an example, a note row (item_code begins with #) that intake never stores.';

document({
  method: 'get',
  path: '/catalog/items/{code}/template.xlsx',
  operationId: 'getCatalogItemXlsxTemplate',
  tags,
  publicLimit: true,
  outage: true,
  summary: '信息项的 Excel 报送模板（公开）/ the Excel template of a catalog item',
  description: `${LAYOUT} 枚举字段和 item_code 有下拉列表（数据验证），证件和文本列为文本格式；“说明”工作表列出规则和各列。/ Enumerations and item_code have dropdowns (data validation); ID and text columns are formatted as Text; sheet 说明 has the rules and the columns.`,
  request: { params: ItemCode },
  responses: {
    200: { description: '.xlsx', content: { [XLSX_TYPE]: { schema: z.string().openapi({ format: 'binary' }) } } },
    ...notFoundResponse,
  },
});
document({
  method: 'get',
  path: '/catalog/items/{code}/template.csv',
  operationId: 'getCatalogItemCsvTemplate',
  tags,
  publicLimit: true,
  outage: true,
  summary: '信息项的 CSV 报送模板（公开）/ the CSV template of a catalog item',
  description: `${LAYOUT} UTF-8，带 BOM（中文 Windows 上的 Excel 可直接打开）。/ UTF-8 with a BOM, so Excel on Chinese Windows opens it right.`,
  request: { params: ItemCode },
  responses: {
    200: { description: 'CSV', content: { 'text/csv': { schema: z.string() } } },
    ...notFoundResponse,
  },
});

function sendFile(res: Response, item: CatalogItem, ext: 'xlsx' | 'csv', type: string, body: Buffer) {
  res
    .status(200)
    .type(type)
    .set('Content-Disposition', contentDisposition(`${item.code}-template.${ext}`, `${templateFileName(item)}.${ext}`))
    .set('Cache-Control', 'no-cache')
    .send(body);
}

/** The templates of the public catalog, built from the catalog as the database holds it. */
export function templatesRouter({ db }: AppDeps): Router {
  const r = Router();
  const itemOf = async (params: unknown) => {
    const { code } = ItemCode.parse(params);
    const item = (await loadCatalog(db)).get(code);
    if (!item)
      throw new HttpError(404, 'NOT_FOUND', `目录中没有信息项 ${code} / no catalog item ${code}`, [
        { field: 'code', reason: '见 GET /catalog / see GET /catalog' },
      ]);
    return item;
  };
  r.get('/catalog/items/:code/template.xlsx', async (req, res) => {
    const item = await itemOf(req.params);
    sendFile(res, item, 'xlsx', XLSX_TYPE, await xlsxTemplate(item));
  });
  r.get('/catalog/items/:code/template.csv', async (req, res) => {
    const item = await itemOf(req.params);
    sendFile(res, item, 'csv', 'text/csv; charset=utf-8', csvTemplate(item));
  });
  return r;
}
