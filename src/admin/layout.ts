import { html, SafeHtml, type HtmlValue } from './html';

/**
 * The page shell: no scripts, one small stylesheet, readable on a phone. Tables fit
 * the width: cells wrap (long ids break anywhere), and below 40rem each row becomes
 * a card whose cells carry their column name (data-label), so no column is cut off.
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
td a,td q,td pre{overflow-wrap:anywhere}
#rules-refused ul{margin:0.5rem 0 0;padding-left:1.25rem}
details.panel{margin:0.75rem 0;padding:0.5rem 0.75rem;border:1px solid #d0d7de;border-radius:6px}
details.panel summary{cursor:pointer}
details.panel h3{font-size:0.95rem;margin:0.75rem 0 0.25rem}
ul.checklist{list-style:none;margin:0;padding:0}
ul.checklist li{padding:0.15rem 0 0.15rem 1.4rem;position:relative}
ul.checklist .mark{position:absolute;left:0;font-weight:700}
ul.checklist li.ok .mark{color:#1a7f37}
ul.checklist li.todo .mark{color:#cf222e}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%)}
@media (max-width:40rem){
.scroll{border:0}
.scroll table,.scroll tbody,.scroll tr,.scroll td{display:block;width:100%}
.scroll thead{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%)}
.scroll tr{border:1px solid #d0d7de;border-radius:6px;margin-bottom:0.5rem;padding:0.25rem 0}
.scroll td{border:0;padding:0.15rem 0.6rem 0.15rem 8.6rem;position:relative;text-align:left;min-height:1.6rem}
.scroll td.num{text-align:left}
.scroll td::before{content:attr(data-label);position:absolute;left:0.6rem;width:7.5rem;font-size:0.8rem;line-height:1.45rem;color:#59636e}
.scroll td[data-label=""]{padding-left:0.6rem;font-weight:600}
.scroll td[data-label=""]::before{display:none}
}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(17rem,1fr));gap:0.75rem}
figure.chart{margin:0;padding:0.5rem 0.75rem;border:1px solid #d0d7de;border-radius:6px;min-width:0}
figure.chart figcaption{display:flex;justify-content:space-between;gap:0.5rem;font-size:0.9rem}
figure.chart .total{font-size:1.1rem}
figure.chart > svg{display:block;width:100%;height:auto;margin-top:0.25rem}
svg text{font:11px system-ui,-apple-system,"Segoe UI",sans-serif;fill:#59636e}
svg text.label{fill:#1b1f24}
svg line.axis{stroke:#8c959f;stroke-width:1}
svg line.grid{stroke:#eaeef2;stroke-width:1}
ul.legend{list-style:none;margin:0.25rem 0 0;padding:0;display:flex;flex-wrap:wrap;gap:0.15rem 0.75rem;font-size:0.85rem}
svg.swatch{width:0.7rem;height:0.7rem;margin-right:0.3rem;vertical-align:baseline}
.k-p0{fill:#06c755}.k-p1{fill:#1877f2}.k-p2{fill:#c13584}.k-p3{fill:#128c7e}.k-p4{fill:#8c959f}
.k-applied{fill:#1a7f37}.k-retry{fill:#d4a72c}.k-dead{fill:#cf222e}.k-429{fill:#8250df}.k-rule{fill:#0969da}
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

