/**
 * What every command of the platform does before it starts anything (api/main.ts and worker/main.ts through
 * scripts/service.ts, scripts/start.ts, scripts/migrate.ts, create-key.ts, verify-audit.ts, seal-key.ts, the benches):
 *
 * - `--help` (`-h`) prints its usage on stdout and exits 0, with no other effect;
 * - an argument it does not know, or an option without its value, is one line on stderr and exit 2;
 * - every setting of the environment is checked (domain/settings.ts): a refused value is one line on stderr naming the
 *   variable, the value and what is allowed, in Chinese and English, and exit 2 — no database, Temporal or server
 *   has been touched, and no stack trace is printed.
 *
 * The settings checked here are the ones the code then reads (domain/config.ts keeps them).
 */
import { SettingsError, settings, type Settings } from '../domain/config';

/** An option of a command: a flag (no value), or one that takes a value (`optional`: the value may be left out). */
export interface CommandOption {
  value?: 'required' | 'optional';
  short?: string;
}

export type CommandArgs = Record<string, string | true | undefined>;

function refuse(prefix: string, message: string): never {
  process.stderr.write(`[${prefix}] ${message}\n`);
  process.exit(2);
}

/**
 * The command's arguments (`--name value`, `--name=value`, a flag `--name`, a short `-x`), `--help` answered here.
 * Nothing else is accepted.
 */
export function commandLine(
  prefix: string,
  usage: string,
  options: Record<string, CommandOption> = {},
  argv: readonly string[] = process.argv.slice(2),
): CommandArgs {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  const seeHelp = '（用法见 --help / see --help）';
  const short = new Map(Object.entries(options).flatMap(([name, o]) => (o.short ? [[o.short, name] as const] : [])));
  const values: CommandArgs = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const long = /^--([^=]+)(?:=([\s\S]*))?$/.exec(arg);
    const name = long ? long[1] : /^-[A-Za-z]$/.test(arg) ? short.get(arg[1]) : undefined;
    const option = name === undefined ? undefined : options[name];
    if (name === undefined || option === undefined) {
      refuse(prefix, `${arg.startsWith('-') ? '未知参数 / unknown argument' : '多余的参数 / unexpected argument'}: ${arg}${seeHelp}`);
    }
    const inline = long?.[2];
    if (!option.value) {
      if (inline !== undefined) refuse(prefix, `--${name} 不带值 / takes no value: ${arg}${seeHelp}`);
      values[name] = true;
    } else if (inline !== undefined) {
      values[name] = inline;
    } else if (argv[i + 1] !== undefined && !argv[i + 1].startsWith('-')) {
      values[name] = argv[++i];
    } else if (option.value === 'optional') {
      values[name] = true;
    } else {
      refuse(prefix, `--${name} 需要一个值 / needs a value${seeHelp}`);
    }
  }
  return values;
}

/** Every setting of the process's environment, or one line and exit 2 (TZ is given its default first). */
export function requireSettings(prefix: string): Settings {
  if (!process.env.TZ) process.env.TZ = 'Asia/Shanghai';
  try {
    return settings();
  } catch (e) {
    if (e instanceof SettingsError) refuse(prefix, e.message);
    throw e;
  }
}

/** The start of a command: its arguments (--help answered), then its settings checked; before anything else. */
export function startCommand(
  prefix: string,
  usage: string,
  options: Record<string, CommandOption> = {},
): { args: CommandArgs; settings: Settings } {
  const args = commandLine(prefix, usage, options);
  return { args, settings: requireSettings(prefix) };
}

/** The usage of a service (api/main.ts, worker/main.ts, npm start): no arguments, settings in the environment. */
export function serviceUsage(command: string, what: { zh: string; en: string }): string {
  return [
    `用法 / usage: ${command}`,
    '',
    `  ${what.zh}`,
    `  ${what.en}`,
    '',
    '  无参数。各项设置均为环境变量（见 README「Configuration」），启动前全部检查：有误时打印一行并以代码 2 退出。',
    '  No arguments. Every setting is an environment variable (README, "Configuration"), all checked before anything',
    '  starts: a refused value is one line naming it, and exit code 2.',
    '  -h, --help   显示本说明 / show this help',
  ].join('\n');
}
