import { Logger } from '@nestjs/common';

// Tests assert on behaviour, not on log lines: keep the console to errors.
Logger.overrideLogger(process.env.SV_TEST_LOG ? ['fatal', 'error', 'warn', 'log'] : ['fatal', 'error']);
