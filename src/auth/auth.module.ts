import { Global, Module, OnApplicationBootstrap } from '@nestjs/common';
import { AccessPolicy } from './access-policy';
import { AuthChanges } from './auth-changes.service';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerStorageService } from '@nestjs/throttler';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKey } from './api-key.entity';
import { Org } from './org.entity';
import { User } from './user.entity';
import { OidcLogin, Session } from './session.entity';
import { SessionController } from './session.controller';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';
import { OidcClient } from './oidc-client';
import { SsoService } from './sso.service';
import { UsersRepository } from './users.repository';
import { FailedAuthThrottle } from './failed-auth-throttle';
import { AuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { UsersController } from './users.controller';
import { OrgsController } from './orgs.controller';
import { OrgsService } from './orgs.service';
import { UsersService } from './users.service';

/** Global: every module asks AccessPolicy who may see and do what, and reads users through UsersService. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([User, Org, ApiKey, Session, OidcLogin])],
  controllers: [UsersController, SessionController, OrgsController],
  providers: [
    UsersRepository,
    AccessPolicy,
    AuthChanges,
    AuthService,
    UsersService,
    SessionsRepository,
    SessionsService,
    OidcClient,
    SsoService,
    OrgsService,
    ThrottlerStorageService,
    FailedAuthThrottle,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [AuthService, UsersService, AccessPolicy, AuthChanges, SessionsService],
})
export class AuthModule implements OnApplicationBootstrap {
  constructor(private readonly auth: AuthService) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.auth.bootstrapAdmin();
  }
}
