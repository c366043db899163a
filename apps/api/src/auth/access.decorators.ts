import { applyDecorators, SetMetadata } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCookieAuth,
  ApiExtension,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
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
    ApiBadRequestResponse({ type: ErrorDto, description: 'Invalid input (VALIDATION_FAILED, MALFORMED_JSON, …)' }),
  );

/** Callable without signing in. */
export const Public = () =>
  applyDecorators(
    SetMetadata(IS_PUBLIC, true),
    ApiExtension('x-studiovault-role', 'public'),
    ApiBadRequestResponse({ type: ErrorDto, description: 'Invalid input (VALIDATION_FAILED, MALFORMED_JSON, …)' }),
  );

/** Documents the 404 of an endpoint addressing one thing. */
export const ApiNotFound = () => ApiNotFoundResponse({ type: ErrorDto, description: 'No such thing (NOT_FOUND)' });

/** Documents a 409 with the codes it may carry. */
export const ApiConflict = (...codes: string[]) => ApiConflictResponse({ type: ErrorDto, description: codes.join(', ') });
