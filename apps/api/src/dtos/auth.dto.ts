import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { UserDto } from './user.dto';

export class LoginDto {
  @ApiProperty({ maxLength: 254 }) @IsEmail() @MaxLength(254) email!: string;
  @ApiProperty({ maxLength: 256 }) @IsString() @MinLength(1) @MaxLength(256) password!: string;
}

export class TokenLoginDto extends LoginDto {
  @ApiProperty({ maxLength: 100, description: 'Name of the token, e.g. the workstation' })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  tokenName!: string;
}

export class SetupDto {
  @ApiProperty({ maxLength: 254 }) @IsEmail() @MaxLength(254) email!: string;
  @ApiProperty({ maxLength: 200 }) @IsString() @MinLength(1) @MaxLength(200) name!: string;
  @ApiProperty({ minLength: 12, maxLength: 256 }) @IsString() @MinLength(12) @MaxLength(256) password!: string;
  /** Validated by the service, so a missing code answers 403 SETUP_CODE_INVALID like a wrong one. */
  @ApiProperty({ maxLength: 64, description: 'The one-time code the server printed on its console and log at first start' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  setupCode?: string;
}

export class AcceptInviteDto {
  @ApiProperty({ maxLength: 200 }) @IsString() @MinLength(1) @MaxLength(200) token!: string;
  @ApiProperty({ minLength: 12, maxLength: 256 }) @IsString() @MinLength(12) @MaxLength(256) password!: string;
}

export class ResetPasswordDto {
  @ApiProperty({ maxLength: 200, description: 'The token of the reset link' }) @IsString() @MinLength(1) @MaxLength(200) token!: string;
  @ApiProperty({ minLength: 12, maxLength: 256 }) @IsString() @MinLength(12) @MaxLength(256) password!: string;
}

export class ChangePasswordDto {
  @ApiProperty({ maxLength: 256 }) @IsString() @MinLength(1) @MaxLength(256) currentPassword!: string;
  @ApiProperty({ minLength: 12, maxLength: 256 }) @IsString() @MinLength(12) @MaxLength(256) newPassword!: string;
}

export class SessionDto {
  @ApiProperty({ type: UserDto }) user!: UserDto;
  @ApiPropertyOptional({ description: 'Send as X-CSRF-Token on every write made with the session cookie' }) csrfToken?: string;
  @ApiProperty({ enum: ['session', 'token'] }) via!: 'session' | 'token';
}

export class SetupStatusDto {
  @ApiProperty() needsSetup!: boolean;
  @ApiProperty() version!: string;
}
