import { Logger } from '@nestjs/common';

// Tests assert on behaviour, not on log lines: keep the console to errors.
Logger.overrideLogger(['fatal', 'error']);
