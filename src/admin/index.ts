/** The operator's status page at /admin. */
export { createAdminRouter, type AdminDeps } from './router';
export { html, escapeHtml, SafeHtml, type HtmlValue } from './html';
