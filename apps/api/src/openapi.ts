import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { loadConfig } from '@studiovault/config';
import { AppModule } from './app.module';
import { configureApp } from './application';

export function buildOpenApiDocument(app: NestExpressApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('StudioVault API')
    .setDescription('Verified, immutable backups for photo and video studios.')
    .setVersion('0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'Personal API token (svt_…)' })
    .addCookieAuth('sv_session')
    .build();
  return SwaggerModule.createDocument(app, config, { operationIdFactory: (_c, method) => method });
}

/** The OpenAPI document, generated from the code without a database (Nest preview mode). */
export async function generateOpenApi(): Promise<OpenAPIObject> {
  const config = loadConfig({ NODE_ENV: 'test' });
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot({ config, databaseUrl: 'postgres://openapi@127.0.0.1:1/none' }),
    { preview: true, logger: false, abortOnError: false, bodyParser: false },
  );
  configureApp(app, { bodyLimit: '1mb' });
  const doc = buildOpenApiDocument(app);
  await app.close();
  return doc;
}

/** Stable JSON: sorted keys, so the committed spec diffs cleanly. */
export function stableStringify(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v as object)
              .sort()
              .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
          )
        : v;
  return JSON.stringify(sort(value), null, 2) + '\n';
}
