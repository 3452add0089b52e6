import { escapeHtml } from '../../http/html.js';

/**
 * A tagged template that escapes every interpolated value unless it is already `Html`, so a
 * view cannot forget to escape. Arrays are joined; null, undefined and false render nothing.
 */
export class Html {
  constructor(readonly value: string) {}
  toString() {
    return this.value;
  }
}

function render(v: unknown): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(v);
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0];
  values.forEach((v, i) => (out += render(v) + strings[i + 1]));
  return new Html(out);
}

export interface PageContext {
  /** Signed-in admin; absent on the sign-in page. */
  admin?: { username: string };
  csrf?: string;
  /** Which nav entry is current. */
  section?: 'apps' | 'developers' | 'users' | 'sources' | 'keys' | 'tokens' | 'admins';
  notice?: string;
  error?: string;
}

const NAV = [
  ['apps', 'Apps'],
  ['developers', 'Developers'],
  ['users', 'Users'],
  ['sources', 'Sign-in sources'],
  ['keys', 'Keys'],
  ['tokens', 'API tokens'],
  ['admins', 'Admins'],
] as const;

/** The console frame. Only same-origin CSS and one deferred script: the strict CSP holds. */
export function page(title: string, ctx: PageContext, body: Html): string {
  const nav = ctx.admin
    ? html`<nav class="nav" aria-label="Console">
          ${NAV.map(([id, label]) => html`<a href="/admin/${id}" ${ctx.section === id ? new Html(' aria-current="page"') : ''}>${label}</a>`)}
        </nav>
        <form class="signout" method="post" action="/admin/logout">
          ${csrfField(ctx.csrf)}<span class="who">${ctx.admin.username}</span><button type="submit" class="link">Sign out</button>
        </form>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)} · Saoma admin</title>
<link rel="stylesheet" href="/static/admin/admin.css">
<script src="/static/admin/admin.js" defer></script>
</head>
<body>
${
  html`<a class="skip" href="#main">Skip to content</a>
    <header class="topbar">
      <a class="brand" href="/admin"><span class="mark" aria-hidden="true"></span>Saoma <small>admin</small></a
      >${nav}
    </header>
    <main class="main" id="main" tabindex="-1">
      ${ctx.notice ? html`<p class="notice" role="status">${ctx.notice}</p>` : ''} ${ctx.error ? html`<p class="alert" role="alert">${ctx.error}</p>` : ''}
      ${body}
    </main>`.value
}
</body>
</html>`;
}

export const csrfField = (csrf: string | undefined) => html`<input type="hidden" name="_csrf" value="${csrf ?? ''}" />`;

/** A small POST form around one button (actions like disable, revoke). */
export function actionForm(
  action: string,
  csrf: string | undefined,
  label: string,
  opts: { kind?: 'danger' | 'secondary'; hidden?: Record<string, string>; id?: string } = {},
) {
  const hidden = Object.entries(opts.hidden ?? {}).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}" />`);
  return html`<form class="inline" method="post" action="${action}">
    ${csrfField(csrf)}${hidden}<button type="submit" ${opts.id ? new Html(` id="${escapeHtml(opts.id)}"`) : ''} class="btn ${opts.kind ?? 'secondary'}">
      ${label}
    </button>
  </form>`;
}

export interface FieldSpec {
  name: string;
  label: string;
  value?: string | null;
  type?: 'text' | 'url' | 'password' | 'textarea' | 'select' | 'search';
  hint?: string;
  required?: boolean;
  options?: Array<[value: string, label: string]>;
  placeholder?: string;
  autocomplete?: string;
  /** The element id when one page has two forms with the same field names (default f-<name>). */
  id?: string;
}

export function field(f: FieldSpec): Html {
  const id = f.id ?? `f-${f.name}`;
  const common = html`id="${id}"
  name="${f.name}"${f.required ? new Html(' required') : ''}${f.placeholder ? html` placeholder="${f.placeholder}"` : ''}${f.autocomplete ? html` autocomplete="${f.autocomplete}"` : ''}${f.hint ? html` aria-describedby="${id}-hint"` : ''}`;
  const control =
    f.type === 'textarea'
      ? html`<textarea ${common} rows="3">${f.value ?? ''}</textarea>`
      : f.type === 'select'
        ? html`<select ${common}>
            ${(f.options ?? []).map(([v, l]) => html`<option value="${v}" ${v === f.value ? new Html(' selected') : ''}>${l}</option>`)}
          </select>`
        : html`<input ${common} type="${f.type ?? 'text'}" value="${f.value ?? ''}" />`;
  return html`<div class="field">
    <label for="${id}">${f.label}${f.required || f.type === 'select' ? '' : html` <span class="optional">optional</span>`}</label
    >${control}${f.hint ? html`<p class="hint" id="${id}-hint">${f.hint}</p>` : ''}
  </div>`;
}

export function table(headers: string[], rows: Html[][], empty: string): Html {
  if (!rows.length) return html`<p class="empty">${empty}</p>`;
  // A column of buttons has no visible heading; a screen reader still gets one.
  const th = (h: string) => (h ? html`<th scope="col">${h}</th>` : html`<th scope="col"><span class="visually-hidden">Actions</span></th>`);
  return html`<div class="table-wrap">
    <table>
      <thead>
        <tr>
          ${headers.map(th)}
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (r) =>
            html`<tr>
              ${r.map((c) => html`<td>${c}</td>`)}
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

/** "2026-11-23 13:49 UTC": unambiguous for admins in any time zone. */
export function when(iso: string | null | undefined): Html {
  if (!iso) return html`<span class="muted">–</span>`;
  return html`<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
}

export const badge = (status: string) => html`<span class="badge ${status}">${status}</span>`;
