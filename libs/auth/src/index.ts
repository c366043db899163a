export * from './api-tokens.service';
export * from './auth.module';
export * from './login-failure.store';
export * from './login-limiter';
export * from './password-hasher';
export * from './sessions.service';
export * from './users.service';
export * from './setup-code.service';
