import { Module } from '@nestjs/common';
import { AuditModule } from '@studiovault/audit';
import { BackupModule } from '@studiovault/backup';
import { AlertSenders } from './alert-senders';
import { AlertsService } from './alerts.service';
import { ChannelsService } from './channels.service';
import { ProblemDetector } from './problem-detector';

@Module({
  imports: [AuditModule, BackupModule],
  providers: [AlertsService, ChannelsService, ProblemDetector, AlertSenders],
  exports: [AlertsService, ChannelsService],
})
export class AlertsModule {}
