import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { PATH_METADATA } from '@nestjs/common/constants';
import { IS_PUBLIC, REQUIRED_ROLE } from './access.decorators';

/** Refuses to boot when a route declares neither @Roles nor @Public. */
@Injectable()
export class RouteAccessCheck implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    const missing: string[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const ctor = wrapper.metatype as (new (...a: unknown[]) => unknown) | null;
      if (!ctor || !wrapper.instance) continue;
      const proto = Object.getPrototypeOf(wrapper.instance);
      for (const method of this.scanner.getAllMethodNames(proto)) {
        const fn = proto[method];
        if (Reflect.getMetadata(PATH_METADATA, fn) === undefined) continue;
        const targets = [fn, ctor];
        if (!this.reflector.getAllAndOverride(IS_PUBLIC, targets) && !this.reflector.getAllAndOverride(REQUIRED_ROLE, targets)) {
          missing.push(`${ctor.name}.${method}`);
        }
      }
    }
    if (missing.length) throw new Error(`Routes without an access rule (@Roles or @Public): ${missing.join(', ')}`);
  }
}
