import { html, SafeHtml, type HtmlValue } from './html';

/**
 * The page shell: no scripts, one small stylesheet, readable on a phone. Wide
 * tables scroll inside their own box so the page itself never scrolls sideways.
 */
const CSS = `
*{box-sizing:border-box}
body{margin:0 auto;max-width:72rem;padding:0.75rem;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1f24;background:#fff;overflow-wrap:anywhere}
header{display:flex;flex-wrap:wrap;gap:0.5rem 1rem;align-items:center;justify-content:space-between;border-bottom:1px solid #d0d7de;padding-bottom:0.5rem}
h1{font-size:1.25rem;margin:0}
h2{font-size:1.1rem;margin:1.5rem 0 0.5rem}
nav{display:flex;flex-wrap:wrap;gap:0.25rem 0.75rem}
a{color:#0550ae}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;border:1px solid #d0d7de;border-radius:6px}
table{border-collapse:collapse;width:100%;font-size:0.9rem}
th,td{text-align:left;vertical-align:top;padding:0.35rem 0.5rem;border-bottom:1px solid #eaeef2;overflow-wrap:normal}
time{white-space:nowrap}
th{background:#f6f8fa;white-space:nowrap}
td.num,th.num{text-align:right}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:0.85rem}
pre{white-space:pre-wrap;margin:0;max-height:8rem;overflow:auto}
form.inline{display:inline;margin:0}
form.stack{display:grid;grid-template-columns:repeat(auto-fit,minmax(11rem,1fr));gap:0.5rem;align-items:end;max-width:48rem}
label{display:flex;flex-direction:column;font-size:0.85rem;gap:0.15rem}
input,select,button{font:inherit;padding:0.35rem 0.5rem;min-height:2.25rem;max-width:100%}
button{cursor:pointer;border:1px solid #8c959f;border-radius:6px;background:#f6f8fa}
button.primary{background:#1f883d;color:#fff;border-color:#1a7f37}
.flash{padding:0.5rem 0.75rem;border-radius:6px;background:#dafbe1;border:1px solid #4ac26b;margin:0.75rem 0}
.error{padding:0.5rem 0.75rem;border-radius:6px;background:#ffebe9;border:1px solid #ff8182;margin:0.75rem 0}
.muted{color:#59636e}
.dead{color:#cf222e;font-weight:600}
.applied{color:#1a7f37;font-weight:600}
`;

/** A constant of this file, so it is the one piece of markup made by hand. */
const STYLE = new SafeHtml(CSS);

export function page(title: string, body: HtmlValue): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

