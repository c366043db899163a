#!/usr/bin/env node
'use strict';
// The CLI is bundled into one file (npm run build:cli), so a workstation needs only Node.
require('../dist/studiovault.cjs');
