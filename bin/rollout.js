#!/usr/bin/env node
// The CLI is bundled into dist/ by `npm run build` (run by `npm ci` via `prepare`).
import '../dist/cli.js';
