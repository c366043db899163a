export * from './alerts.module';
export * from './alerts.service';
export * from './channels.service';
export * from './alert-settings';
export * from './alert-message';
export * from './alert-senders';
export * from './problem-detector';
