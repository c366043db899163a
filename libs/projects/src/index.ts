export * from './projects.service';
export * from './projects.module';
