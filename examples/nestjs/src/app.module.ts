import { Controller, Get, Module, UseGuards } from '@nestjs/common';
import { JwtSession, JwtSessionGuard, JwtSessionsModule, type VerifiedSession } from 'jwt-sessions/nestjs';
import { authenticate, sessions } from './auth';

@Controller('api')
export class MeController {
  // A protected route: Authorization: Bearer <access token>, or the access cookie (+ X-CSRF-Token on POST).
  @Get('me')
  @UseGuards(JwtSessionGuard)
  me(@JwtSession() session: VerifiedSession) {
    return { user_id: session.claims.user_id, session_id: session.sessionId };
  }
}

@Module({
  imports: [
    // POST /auth/login, /auth/refresh, /auth/logout, GET /auth/sessions, DELETE /auth/sessions/:id
    JwtSessionsModule.forRoot({ sessions, routes: { prefix: 'auth', authenticate } }),
  ],
  controllers: [MeController],
})
export class AppModule {}
