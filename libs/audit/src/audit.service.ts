import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AuditEventEntity } from '@studiovault/catalog';
import { currentContext } from '@studiovault/common';

export interface AuditListQuery {
  limit: number;
  offset: number;
  action?: string;
}

/** Who did what, when: every admin action and every security-relevant event. */
@Injectable()
export class AuditService {
  constructor(@InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>) {}

  async record(action: string, subject?: { type: string; id: string }, details: Record<string, unknown> = {}): Promise<void> {
    const ctx = currentContext();
    await this.events.insert({
      action,
      subjectType: subject?.type ?? null,
      subjectId: subject?.id ?? null,
      details,
      actorUserId: ctx.actor?.via === 'system' ? null : (ctx.actor?.userId ?? null),
      actorEmail: ctx.actor?.email ?? null,
      ip: ctx.ip ?? null,
      requestId: ctx.requestId ?? null,
    } as Partial<AuditEventEntity> as never);
  }

  async list(q: AuditListQuery): Promise<{ items: AuditEventEntity[]; total: number }> {
    const [items, total] = await this.events.findAndCount({
      where: q.action ? { action: q.action } : {},
      order: { at: 'DESC', id: 'DESC' },
      take: q.limit,
      skip: q.offset,
    });
    return { items, total };
  }
}
