import { Body, Controller, Get, HttpStatus, Param, Post, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CatalogQueries, CopyEntity, StorageVolumeEntity } from '@studiovault/catalog';
import { CopyState, ProtectionLevel, Role, VolumeState } from '@studiovault/contracts';
import { CopyDamageService, IngestService } from '@studiovault/ingest';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { ApiConflict, ApiNotFound, Roles } from '../auth/access.decorators';
import { AnnounceCardDto, CardDto, CardFilesDto, CardFilesQueryDto } from '../dtos/card.dto';
import { ErrorDto } from '../dtos/error.dto';
import { FindingDto } from '../dtos/integrity.dto';
import { uuidPipe } from './pipes';

@ApiTags('cards')
@Controller()
export class CardsController {
  constructor(
    private readonly ingest: IngestService,
    private readonly queries: CatalogQueries,
    @InjectDataSource() private readonly db: DataSource,
    private readonly damage: CopyDamageService,
  ) {}

  @Post('projects/:slug/cards')
  @Roles(Role.Editor)
  @ApiOperation({
    operationId: 'announceCard',
    summary: 'Announce a card before its first byte (created, or the existing card with that label)',
  })
  @ApiCreatedResponse({ type: CardDto, description: 'A new card' })
  @ApiOkResponse({ type: CardDto, description: 'The card with that label already exists (re-ingest)' })
  @ApiResponse({ status: 507, type: ErrorDto, description: 'INSUFFICIENT_STORAGE: names the volume and the bytes missing' })
  @ApiNotFound()
  @ApiConflict('PROJECT_ARCHIVED')
  async announce(@Param('slug') slug: string, @Body() dto: AnnounceCardDto, @Res({ passthrough: true }) res: Response): Promise<CardDto> {
    const { card, created } = await this.ingest.announceCard(slug, dto);
    res.status(created ? HttpStatus.CREATED : HttpStatus.OK);
    return CardDto.from(await this.ingest.cardStatus(card.id));
  }

  @Get('projects/:slug/cards')
  @Roles(Role.Viewer)
  @ApiOperation({ operationId: 'listCards', summary: "A project's cards with protection levels and verdicts" })
  @ApiOkResponse({ type: [CardDto] })
  @ApiNotFound()
  async list(@Param('slug') slug: string): Promise<CardDto[]> {
    return (await this.ingest.cardsOfProject(slug)).map(CardDto.from);
  }

  @Get('cards/:id')
  @Roles(Role.Viewer)
  @ApiOperation({ operationId: 'getCard', summary: 'A card: protection counts and its safe-to-format verdict with the reason' })
  @ApiOkResponse({ type: CardDto })
  @ApiNotFound()
  async get(@Param('id', uuidPipe) id: string): Promise<CardDto> {
    return CardDto.from(await this.ingest.cardStatus(id));
  }

  @Get('cards/:id/files')
  @Roles(Role.Viewer)
  @ApiOperation({ operationId: 'listCardFiles', summary: "A card's files with sizes, hashes and copies, by path (keyset paging)" })
  @ApiOkResponse({ type: CardFilesDto })
  @ApiNotFound()
  async files(@Param('id', uuidPipe) id: string, @Query() q: CardFilesQueryDto): Promise<CardFilesDto> {
    await this.ingest.getCard(id);
    const page = await this.queries.listCardFiles(id, { limit: q.limit ?? 200, after: q.after }, { notVerified: q.notVerified === 'true' });
    const ids = page.rows.map((r) => r.id);
    const [copies, volumes, findings] = await Promise.all([
      ids.length ? this.db.getRepository(CopyEntity).find({ where: { assetId: In(ids) }, order: { id: 'ASC' } }) : [],
      this.db.getRepository(StorageVolumeEntity).find(),
      ids.length ? this.damage.findings({ assetIds: ids }) : [],
    ]);
    const role = new Map(volumes.map((v) => [v.id, v.role]));
    // A copy on an offline volume is unreachable: it does not count, and the file says why.
    const offline = new Map(volumes.filter((v) => v.state === VolumeState.Offline).map((v) => [v.id, v]));
    const unreachable = (assetId: string) =>
      copies.find((c) => c.assetId === assetId && c.volumeId && offline.has(c.volumeId) && c.state !== CopyState.Missing);
    const LOCAL_VERIFIED: string[] = [
      ProtectionLevel.Verified,
      ProtectionLevel.Offsite,
      ProtectionLevel.Immutable,
      ProtectionLevel.Drilled,
    ];
    return {
      items: page.rows.map((r) => {
        const away = unreachable(r.id);
        const v = away ? offline.get(away.volumeId!)! : undefined;
        return {
          id: r.id,
          relativePath: r.relativePath,
          size: Number(r.size),
          protection: v && LOCAL_VERIFIED.includes(r.protection) ? ProtectionLevel.Copied : r.protection,
          protectionReason: v ? `copy unreachable: the ${v.role} volume is offline (${v.offlineReason ?? v.rootPath})` : r.protectionReason,
          openFinding: r.openFinding,
          xxh64: r.xxh64,
          sha256: r.sha256,
          captureTime: r.captureTime?.toISOString() ?? null,
          warnings: r.nameWarnings,
          copies: copies
            .filter((c) => c.assetId === r.id && c.volumeId)
            .map((c) => ({
              volume: role.get(c.volumeId!) ?? 'unknown',
              state: offline.has(c.volumeId!) && c.state !== CopyState.Missing ? 'unreachable' : c.state,
              verifyMethod: c.verifyMethod,
              observedXxh64: c.observedXxh64,
              verifiedAt: c.verifiedAt?.toISOString() ?? null,
              error: offline.has(c.volumeId!) ? (offline.get(c.volumeId!)!.offlineReason ?? c.error) : c.error,
              lastScrubbedAt: c.lastScrubbedAt?.toISOString() ?? null,
              scrubResult: c.scrubResult,
            })),
          findings: findings.filter((f) => f.assetId === r.id).map(FindingDto.from),
        };
      }),
      nextCursor: page.nextCursor,
    };
  }
}
