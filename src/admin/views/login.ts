import { html, type SafeHtml } from '../html';
import { page } from '../layout';

/** The login form; shown at /admin/login and as the body of every 401 a browser gets. Holds no data. */
export function loginPage(base: string, problem?: string): SafeHtml {
  return page(
    'chat-autotag: log in',
    html`<header><h1>chat-autotag status</h1></header>
<section id="login"><h2>Log in</h2>
${problem ? html`<p class="error" role="alert">${problem}</p>` : ''}
<form class="stack" method="post" action="${base}/login">
<label>Admin token (ADMIN_TOKEN)<input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit" class="primary">Log in</button>
</form>
<p class="muted">Browsers keep the login cookie only over HTTPS (or on localhost). Scripts may send <code>Authorization: Bearer &lt;ADMIN_TOKEN&gt;</code> instead.</p>
</section>`,
  );
}
