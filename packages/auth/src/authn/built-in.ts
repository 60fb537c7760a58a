import type { BuiltInDatabaseAuthnConfig } from '../config.js';
import type { UserStore } from '../users.js';
import { denied, IGNORE, type Authenticator } from './types.js';

/**
 * EMQX `password_based` + `built_in_database`: no password is a denial; an unknown user is
 * ignored (the next step decides); a wrong password is a denial.
 */
export function builtInAuthenticator(cfg: BuiltInDatabaseAuthnConfig, users: UserStore): Authenticator {
  return {
    id: 'password_based:built_in_database',
    async authenticate(info) {
      if (info.password === undefined) return denied('bad_credentials', 'no password');
      const userId = cfg.user_id_type === 'clientid' ? info.clientId : info.username;
      if (userId === undefined || userId === '') return IGNORE;
      const r = await users.check(userId, info.password);
      if (r.ok) return { result: 'allow', isSuperuser: r.user.is_superuser };
      return r.reason === 'not_found' ? IGNORE : denied('bad_credentials', 'bad user name or password');
    },
  };
}
