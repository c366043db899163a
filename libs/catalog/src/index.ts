export * from './entities';
export * from './data-source';
export * from './pg-errors';
export * from './catalog-queries';
