export { ensureStackTls, tlsPaths, normalizeSans, certificateSans, CA_VALIDITY_DAYS, SERVER_VALIDITY_DAYS, RENEW_BEFORE_DAYS } from "./ca.js";
export type { StackTls } from "./ca.js";
