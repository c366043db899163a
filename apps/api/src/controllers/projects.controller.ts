import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Role } from '@studiovault/contracts';
import { ProjectsService } from '@studiovault/projects';
import { ApiConflict, ApiNotFound, Roles } from '../auth/access.decorators';
import { CreateProjectDto, ProjectDto, ProjectListDto, ProjectQueryDto, UpdateProjectDto } from '../dtos/project.dto';

@ApiTags('projects')
@Controller('projects')
export class ProjectsController {
  constructor(private readonly projects: ProjectsService) {}

  @Get()
  @Roles(Role.Viewer)
  @ApiOperation({ operationId: 'listProjects', summary: 'Projects, newest first, with search and paging' })
  @ApiOkResponse({ type: ProjectListDto })
  async list(@Query() q: ProjectQueryDto): Promise<ProjectListDto> {
    const limit = q.limit ?? 50;
    const offset = q.offset ?? 0;
    const { items, total } = await this.projects.list({ ...q, limit, offset });
    return { items: items.map(ProjectDto.from), total, limit, offset };
  }

  @Post()
  @Roles(Role.Editor)
  @ApiOperation({ operationId: 'createProject' })
  @ApiCreatedResponse({ type: ProjectDto })
  @ApiConflict('PROJECT_SLUG_TAKEN')
  async create(@Body() dto: CreateProjectDto): Promise<ProjectDto> {
    return ProjectDto.from(await this.projects.create(dto));
  }

  @Get(':slug')
  @Roles(Role.Viewer)
  @ApiOperation({ operationId: 'getProject' })
  @ApiNotFound()
  @ApiOkResponse({ type: ProjectDto })
  async get(@Param('slug') slug: string): Promise<ProjectDto> {
    return ProjectDto.from(await this.projects.get(slug));
  }

  @Patch(':slug')
  @Roles(Role.Editor)
  @ApiOperation({ operationId: 'updateProject', summary: 'Rename, or change client, shoot date, type' })
  @ApiNotFound()
  @ApiConflict('PROJECT_ARCHIVED')
  @ApiOkResponse({ type: ProjectDto })
  async update(@Param('slug') slug: string, @Body() dto: UpdateProjectDto): Promise<ProjectDto> {
    return ProjectDto.from(await this.projects.update(slug, dto));
  }

  @Post(':slug/archive')
  @Roles(Role.Admin)
  @HttpCode(200)
  @ApiOperation({ operationId: 'archiveProject', summary: 'Archive a project (its files stay protected)' })
  @ApiNotFound()
  @ApiOkResponse({ type: ProjectDto })
  async archive(@Param('slug') slug: string): Promise<ProjectDto> {
    return ProjectDto.from(await this.projects.archive(slug));
  }
}
