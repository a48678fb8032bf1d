// NestJS quickstart (CommonJS, the `nest new` layout): `npx tsc && PORT=3000 node dist/main.js`
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';

async function bootstrap() {
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { logger: ['error', 'warn'] });
  app.useBodyParser('json', { limit: 16 * 1024 }); // the auth routes' 16 KiB cap
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port, '127.0.0.1');
  console.log(`Listening on http://127.0.0.1:${port}`);
}
void bootstrap();
