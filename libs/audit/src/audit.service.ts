import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AuditEventEntity } from '@studiovault/catalog';
import { currentContext } from '@studiovault/common';
import { capDetails, capString } from './audit-limits';

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
    // Each field to its column's length, the details to AUDIT_LIMITS: a row never grows with what a client sends.
    const cap = (value: string | undefined, max: number) => (value === undefined ? null : capString(value, max));
    await this.events.insert({
      action: capString(action, 64),
      subjectType: cap(subject?.type, 32),
      subjectId: cap(subject?.id, 64),
      details: capDetails(details),
      actorUserId: ctx.actor?.via === 'system' ? null : (ctx.actor?.userId ?? null),
      actorEmail: cap(ctx.actor?.email, 254),
      ip: cap(ctx.ip, 64),
      requestId: cap(ctx.requestId, 64),
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
