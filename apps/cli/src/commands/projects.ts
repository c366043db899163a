import { type Command, Option } from 'commander';
import type { Schemas } from '@studiovault/api-client';
import { ProjectStatus, ProjectType } from '@studiovault/contracts';
import type { Context } from '../context';
import { usageError } from '../errors';
import { clean, type Column, keyValues, table } from '../output';
import { isoDate, nonNegativeInt, option, positiveInt, slug } from '../validate';
import { action } from './action';

type Project = Schemas['ProjectDto'];
type ProjectList = Schemas['ProjectListDto'];

/** The API's page size limit (ProjectQueryDto). */
const LIST_MAX = 500;

interface ListOptions {
  search?: string;
  status?: ProjectStatus;
  type?: ProjectType;
  limit?: number;
  offset?: number;
}

interface CreateOptions {
  slug?: string;
  type?: ProjectType;
  client?: string;
  shootDate?: string;
}

const typeOption = (description: string) => new Option('--type <type>', description).choices(Object.values(ProjectType));

export function registerProjectsCommands(program: Command): void {
  const projects = program.command('projects').description('list, create and show projects (a shoot, a client job)');

  projects
    .command('list')
    .description('list projects, newest first')
    .option('--search <text>', 'only projects whose name, slug or client contains this')
    .addOption(new Option('--status <status>', 'only active or archived projects').choices(Object.values(ProjectStatus)))
    .addOption(typeOption('only projects of this type'))
    .option('--limit <n>', `how many to show (1 to ${LIST_MAX}, default 50)`, option(positiveInt(LIST_MAX)))
    .option('--offset <n>', 'skip this many (paging)', option(nonNegativeInt))
    .action(action<ListOptions>(list));

  projects
    .command('create')
    .description('create a project')
    .argument('<name>', 'the project name, e.g. "Anna & Ben Wedding" (quote it)')
    .option('--slug <slug>', 'short URL-safe name used in folders and commands (default: made from the name)', option(slug))
    .addOption(typeOption('kind of shoot (default: other)'))
    .option('--client <client>', 'client name')
    .option('--shoot-date <date>', 'day of the shoot, YYYY-MM-DD', option(isoDate))
    .action(action<CreateOptions, [string]>(create));

  projects
    .command('show')
    .description('show one project')
    .argument('<slug>', 'the project slug (see studiovault projects list)')
    .action(action<Record<string, never>, [string]>(show));
}

async function list(ctx: Context, opts: ListOptions): Promise<void> {
  const api = await ctx.connect();
  const query = { search: nfc(opts.search), status: opts.status, type: opts.type, limit: opts.limit, offset: opts.offset };
  const page: ProjectList = await api.call(api.client.GET('/api/projects', { params: { query } }));
  ctx.out.result(page, () => {
    if (page.items.length === 0) {
      const filtered = opts.search !== undefined || opts.status !== undefined || opts.type !== undefined;
      if (page.total > 0) ctx.out.line(`No projects past offset ${page.offset} (there are ${page.total}).`);
      else if (filtered) ctx.out.line('No projects match.');
      else ctx.out.line('No projects yet. Create one with: studiovault projects create NAME');
      return;
    }
    ctx.out.line(table(page.items, PROJECT_COLUMNS));
    const last = page.offset + page.items.length;
    const noun = page.total === 1 ? 'project' : 'projects';
    ctx.out.line();
    if (page.offset > 0 || last < page.total) {
      const next = last < page.total ? `; next page: --offset ${last}` : '';
      ctx.out.line(`${page.offset + 1}-${last} of ${page.total} ${noun}${next}`);
    } else {
      ctx.out.line(`${page.total} ${noun}`);
    }
  });
}

async function create(ctx: Context, opts: CreateOptions, name: string): Promise<void> {
  const trimmed = nfc(name).trim();
  if (!trimmed) throw usageError('the project name must not be blank');
  const api = await ctx.connect();
  const body = {
    name: trimmed,
    slug: opts.slug,
    type: opts.type,
    client: nfc(opts.client)?.trim() || undefined,
    shootDate: opts.shootDate,
  };
  const project: Project = await api.call(api.client.POST('/api/projects', { body }));
  ctx.out.result(project, () => {
    ctx.out.line(`Created project "${clean(project.name)}" (${project.slug}).`);
    ctx.out.line(describe(project));
  });
}

async function show(ctx: Context, _opts: unknown, slugArg: string): Promise<void> {
  try {
    slug(slugArg);
  } catch (err) {
    throw usageError(`${(err as Error).message}; find a project's slug with studiovault projects list --search TEXT`);
  }
  const api = await ctx.connect();
  const project: Project = await api.call(api.client.GET('/api/projects/{slug}', { params: { path: { slug: slugArg.trim() } } }));
  ctx.out.result(project, () => ctx.out.line(describe(project)));
}

/** Text typed on a Mac arrives decomposed (NFD); the catalog compares in NFC. */
function nfc<T extends string | undefined>(text: T): T {
  return (text === undefined ? text : text.normalize('NFC')) as T;
}

const PROJECT_COLUMNS: Column<Project>[] = [
  { header: 'SLUG', value: (p) => p.slug },
  { header: 'NAME', value: (p) => p.name, max: 40 },
  { header: 'TYPE', value: (p) => p.type },
  { header: 'STATUS', value: (p) => (p.legalHold ? `${p.status}, hold` : p.status) },
  { header: 'SHOOT DATE', value: (p) => p.shootDate ?? '-' },
  { header: 'CLIENT', value: (p) => p.client ?? '-', max: 30 },
];

function describe(p: Project): string {
  return keyValues([
    ['Name', p.name],
    ['Slug', p.slug],
    ['Type', p.type],
    ['Status', p.status],
    ['Client', p.client],
    ['Shoot date', p.shootDate],
    ['Legal hold', p.legalHold ? 'yes' : 'no'],
    ['Created', p.createdAt],
    ['Updated', p.updatedAt],
  ]);
}
