// The few DOM calls of report.html's plot.js, enough to run it in node:
// node dom_shim.js report.html prints, per plot, whether an SVG was drawn, its paths and texts.
const fs = require("fs");
const page = fs.readFileSync(process.argv[2], "utf8");
const data = /<script type="application\/json" id="obsa-evidence">([\s\S]*?)<\/script>/
  .exec(page)[1];
const script = /<script>([\s\S]*?)<\/script>/.exec(page)[1];
function Node(name) {
  this.name = name; this.attrs = {}; this.children = []; this.textContent = "";
}
Node.prototype.setAttribute = function (k, v) { this.attrs[k] = String(v); };
Node.prototype.getAttribute = function (k) { return k in this.attrs ? this.attrs[k] : null; };
Node.prototype.appendChild = function (c) { this.children.push(c); return c; };
Node.prototype.addEventListener = function () {};
const count = (page.match(/class="plot" data-index="/g) || []).length;
const holders = [...Array(count).keys()].map(i => {
  const h = new Node("div"); h.attrs["data-index"] = String(i); return h;
});
global.window = {addEventListener() {}};
global.document = {
  getElementById: id => id === "obsa-evidence" ? {textContent: data} : null,
  createElementNS: (ns, name) => new Node(name), createElement: name => new Node(name),
  querySelectorAll: () => holders,
};
eval(script);
const out = holders.map(h => {
  const paths = [], texts = [];
  (function walk(n) {
    if (n.name === "path") paths.push(n.attrs.d);
    if (n.name === "text") texts.push(n.textContent);
    n.children.forEach(walk);
  })(h);
  return {svg: h.children.length > 0 && h.children[0].name === "svg", paths, texts};
});
console.log(JSON.stringify(out));
