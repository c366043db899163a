export * from './integrity.module';
export * from './scrub.service';
export * from './scrub-settings';
export * from './heal.service';
