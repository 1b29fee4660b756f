// The WGSL template preprocessor of the kernel runner (runner.js re-exports it): //#include, {{NAME}}, //#if.

/**
 * Applies //#include NAME (inlines sources[NAME], once), {{NAME}} (replaced by defines[NAME]),
 * then //#if NAME, //#ifnot NAME, //#else, //#endif (nestable, one directive per line).
 */
export function preprocess(source, defines = {}, sources = {}) {
  const included = new Set();
  const inline = (src) => src.replace(/^[ \t]*\/\/#include[ \t]+(\w+)[ \t]*$/gm, (_, name) => {
    if (included.has(name)) return "";
    if (sources[name] === undefined) throw new Error(`preprocess: unknown include ${name}`);
    included.add(name);
    return inline(sources[name]);
  });
  source = inline(source).replace(/\{\{(\w+)\}\}/g, (_, name) => {
    if (defines[name] === undefined) throw new Error(`preprocess: no value for {{${name}}}`);
    return String(defines[name]);
  });
  const out = [];
  const stack = []; // each: {active, parentActive, taken}
  let active = true;
  source.split("\n").forEach((line, i) => {
    const m = /^\s*\/\/#(if|ifnot|else|endif)\b\s*(\w*)\s*$/.exec(line);
    if (!m) {
      if (active) out.push(line);
      return;
    }
    const [, dir, name] = m;
    if (dir === "if" || dir === "ifnot") {
      const cond = dir === "if" ? !!defines[name] : !defines[name];
      stack.push({ parentActive: active });
      active = active && cond;
      stack[stack.length - 1].cond = cond;
    } else if (dir === "else") {
      const top = stack[stack.length - 1];
      if (!top) throw new Error(`preprocess: //#else without //#if at line ${i + 1}`);
      active = top.parentActive && !top.cond;
    } else {
      const top = stack.pop();
      if (!top) throw new Error(`preprocess: //#endif without //#if at line ${i + 1}`);
      active = top.parentActive;
    }
  });
  if (stack.length) throw new Error("preprocess: unterminated //#if");
  return out.join("\n");
}
