export * from './auth.decorators';
export * from './auth.guard';
export * from './auth.module';
export * from './auth.service';
export * from './authenticated-user';
export * from './user.entity';
export * from './org.entity';
export * from './api-key.entity';
export { UsersService } from './users.service';
