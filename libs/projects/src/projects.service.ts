import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, Repository } from 'typeorm';
import { AuditService } from '@studiovault/audit';
import { isUniqueViolation, ProjectEntity } from '@studiovault/catalog';
import { AppError, currentContext } from '@studiovault/common';
import { ErrorCode, ProjectStatus, ProjectType, SLUG_PATTERN, slugify } from '@studiovault/contracts';

export interface NewProject {
  name: string;
  slug?: string;
  client?: string;
  shootDate?: string;
  type?: ProjectType;
}

export interface ProjectQuery {
  search?: string;
  status?: ProjectStatus;
  type?: ProjectType;
  limit: number;
  offset: number;
}

@Injectable()
export class ProjectsService {
  constructor(
    @InjectRepository(ProjectEntity) private readonly projects: Repository<ProjectEntity>,
    private readonly audit: AuditService,
  ) {}

  async create(input: NewProject): Promise<ProjectEntity> {
    const name = input.name.normalize('NFC').trim();
    const explicitSlug = input.slug !== undefined;
    const slug = explicitSlug ? input.slug! : slugify(name);
    if (!SLUG_PATTERN.test(slug)) {
      throw new AppError(
        ErrorCode.ValidationFailed,
        explicitSlug
          ? 'slug must be lowercase letters, digits and dashes (1-64), not starting or ending with a dash'
          : 'Cannot make a slug from this name; give one with slug',
        ['slug is invalid'],
      );
    }
    const row = this.projects.create({
      name,
      slug,
      client: input.client?.normalize('NFC').trim() || null,
      shootDate: input.shootDate ?? null,
      type: input.type ?? ProjectType.Other,
      status: ProjectStatus.Active,
      createdBy: currentContext().actor?.userId ?? null,
    });
    try {
      await this.projects.insert(row);
    } catch (err) {
      if (isUniqueViolation(err, 'projects_slug_key')) {
        throw new AppError(ErrorCode.ProjectSlugTaken, `A project with slug "${slug}" already exists; choose another slug`);
      }
      throw err;
    }
    await this.audit.record('project.create', { type: 'project', id: row.id }, { slug, name });
    return this.get(slug);
  }

  async list(q: ProjectQuery): Promise<{ items: ProjectEntity[]; total: number }> {
    const qb = this.projects.createQueryBuilder('p');
    if (q.status) qb.andWhere('p.status = :status', { status: q.status });
    if (q.type) qb.andWhere('p.type = :type', { type: q.type });
    if (q.search) {
      const like = `%${q.search
        .normalize('NFC')
        .toLowerCase()
        .replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      qb.andWhere(
        new Brackets((w) =>
          w
            .where('lower(p.name) LIKE :like', { like })
            .orWhere('p.slug LIKE :like', { like })
            .orWhere('lower(p.client) LIKE :like', { like }),
        ),
      );
    }
    qb.orderBy('p.created_at', 'DESC').addOrderBy('p.id', 'ASC').take(q.limit).skip(q.offset);
    const [items, total] = await qb.getManyAndCount();
    return { items, total };
  }

  async get(slug: string): Promise<ProjectEntity> {
    const p = await this.projects.findOne({ where: { slug } });
    if (!p) throw new AppError(ErrorCode.NotFound, `No project with slug "${slug}"`);
    return p;
  }

  async update(
    slug: string,
    patch: { name?: string; client?: string | null; shootDate?: string | null; type?: ProjectType },
  ): Promise<ProjectEntity> {
    const p = await this.get(slug);
    if (p.status === ProjectStatus.Archived) throw new AppError(ErrorCode.ProjectArchived, `Project "${slug}" is archived`);
    const changes: Partial<ProjectEntity> = {};
    if (patch.name !== undefined) changes.name = patch.name.normalize('NFC').trim();
    if (patch.client !== undefined) changes.client = patch.client?.normalize('NFC').trim() || null;
    if (patch.shootDate !== undefined) changes.shootDate = patch.shootDate;
    if (patch.type !== undefined) changes.type = patch.type;
    if (Object.keys(changes).length) {
      await this.projects.update(p.id, changes);
      await this.audit.record('project.update', { type: 'project', id: p.id }, { slug, ...changes });
    }
    return this.get(slug);
  }

  async archive(slug: string): Promise<ProjectEntity> {
    const p = await this.get(slug);
    if (p.status !== ProjectStatus.Archived) {
      await this.projects.update(p.id, { status: ProjectStatus.Archived, archivedAt: new Date() });
      await this.audit.record('project.archive', { type: 'project', id: p.id }, { slug });
    }
    return this.get(slug);
  }
}
