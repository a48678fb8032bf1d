// Build step: the SPA's static files sit next to its compiled scripts in dist/server/spa.
import { copyFileSync, mkdirSync } from 'node:fs';

mkdirSync('dist/server/spa', { recursive: true });
for (const file of ['index.html', 'styles.css'])
  copyFileSync(`src/server/spa/${file}`, `dist/server/spa/${file}`);
