import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiExtension, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Role } from '@studiovault/contracts';
import { ErrorDto } from '../dtos/error.dto';

export const REQUIRED_ROLE = 'studiovault:required-role';
export const IS_PUBLIC = 'studiovault:public';

/** The least role that may call this endpoint. Every endpoint declares @Roles or @Public. */
export const Roles = (role: Role) =>
  applyDecorators(
    SetMetadata(REQUIRED_ROLE, role),
    ApiExtension('x-studiovault-role', role),
    ApiBearerAuth(),
    ApiCookieAuth(),
    ApiUnauthorizedResponse({ type: ErrorDto, description: 'Not signed in' }),
    ApiForbiddenResponse({ type: ErrorDto, description: `Needs role ${role} or higher` }),
  );

/** Callable without signing in. */
export const Public = () => applyDecorators(SetMetadata(IS_PUBLIC, true), ApiExtension('x-studiovault-role', 'public'));
