/**
 * @junction/auth: authentication, authorization, banned clients and flapping detection for a
 * Junction broker, in EMQX's configuration shape and data formats, through the core's hooks.
 */
export { installAuth, type AuthBroker, type AuthHandle, type InstallAuthOptions } from './install.js';
export { persistBans, persistUsers, BANNED_NAMESPACE, USERS_NAMESPACE } from './persistence.js';
export * from './config.js';
export { normalize as normalizeConfig } from './normalize.js';
export { AuthError, AclSyntaxError, InvalidRuleError, type AuthErrorCode } from './errors.js';
export { UserStore, type UserInfo, type NewUser, type StoredUser, type ImportResult, type ImportType, type ImportFormat, type UserStoreOptions, type UserChange } from './users.js';
export { AclRuleStore, type RawRule, type RuleOwner } from './authz/rule-store.js';
export { BannedList, BAN_KINDS, type Ban, type BanKind, type NewBan, type BanSubject, type BanChange } from './banned.js';
export { FlappingDetector } from './flapping.js';
export { parseAclFile, DEFAULT_ACL } from './authz/acl-file.js';
export { matchRules, parseRawRule, parseClientAcl, type Rule, type RuleSubject, type RuleAction, type RuleResult } from './authz/rule.js';
export { checkPassword, hashPassword, type HashAlgorithm, type SaltPosition, type SimpleHashName, type Pbkdf2MacFun } from './password-hash.js';
export { deriveScramCredentials, scramServerFirst, type ScramAlgorithm, type ScramCredentials, type ScramStep } from './scram.js';
export { ATTR, type AclAttr } from './attrs.js';
export { LOG as AUTH_LOG_EVENTS } from './log-events.js';
