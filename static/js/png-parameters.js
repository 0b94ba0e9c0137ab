// The settings a PNG carries in AUTOMATIC1111's "parameters" text chunk (our worker writes the
// same, generation/png_parameters.py): read from a File, and, on the generate page, copied into
// the form when a PNG is dropped onto it.
"use strict";

window.rollerPngParameters = (function () {
  const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
  const KEYWORD = "parameters";
  const NEGATIVE_PROMPT = "Negative prompt:";
  // One "Key: value" of the settings line; a value with a comma, colon or newline is a JSON
  // string (as AUTOMATIC1111 reads them, and as generation/png_parameters.py does).
  const SETTING = /\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)/g;
  const SETTINGS_AT_LEAST = 3;
  // name -> AUTOMATIC1111's label, as generation/samplers.py has them.
  const SAMPLERS = {
    euler: "Euler",
    euler_a: "Euler a",
    dpmpp_2m: "DPM++ 2M",
    dpmpp_2m_karras: "DPM++ 2M Karras",
    ddim: "DDIM",
    unipc: "UniPC",
    lcm: "LCM",
  };
  const SAMPLER_NAMES = { default: "" };
  for (const [name, label] of Object.entries(SAMPLERS)) SAMPLER_NAMES[label.toLowerCase()] = name;

  // Byte for byte (TextDecoder's "latin1" is windows-1252, which differs at 0x80-0x9f).
  function latin1(bytes) {
    let text = "";
    for (let at = 0; at < bytes.length; at += 8192) {
      text += String.fromCharCode(...bytes.subarray(at, at + 8192));
    }
    return text;
  }

  async function inflate(bytes) {
    if (typeof DecompressionStream === "undefined") return null;
    try {
      const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
      return new Uint8Array(await new Response(stream).arrayBuffer());
    } catch (error) {
      return null; // not zlib data after all
    }
  }

  // The text of one tEXt, zTXt or iTXt chunk if its keyword is "parameters", else null.
  async function chunkText(type, data) {
    const end = data.indexOf(0);
    if (end < 0 || latin1(data.subarray(0, end)) !== KEYWORD) return null;
    if (type === "tEXt") return latin1(data.subarray(end + 1));
    if (type === "zTXt") {
      const inflated = await inflate(data.subarray(end + 2));
      return inflated && latin1(inflated);
    }
    // iTXt: compression flag, compression method, language tag\0, translated keyword\0, text.
    const compressed = data[end + 1] === 1;
    const languageEnd = data.indexOf(0, end + 3);
    const translatedEnd = languageEnd < 0 ? -1 : data.indexOf(0, languageEnd + 1);
    if (translatedEnd < 0) return null;
    let text = data.subarray(translatedEnd + 1);
    if (compressed) text = await inflate(text);
    return text && new TextDecoder("utf-8").decode(text);
  }

  // The "parameters" text of a PNG's bytes; null if it is no PNG or has none.
  async function textOf(buffer) {
    const bytes = new Uint8Array(buffer);
    if (bytes.length < 8 || PNG_SIGNATURE.some((byte, at) => bytes[at] !== byte)) return null;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let offset = 8; offset + 12 <= bytes.length; ) {
      const length = view.getUint32(offset);
      const type = latin1(bytes.subarray(offset + 4, offset + 8));
      const start = offset + 8;
      if (start + length + 4 > bytes.length || type === "IEND") break;
      if (type === "tEXt" || type === "zTXt" || type === "iTXt") {
        const text = await chunkText(type, bytes.subarray(start, start + length));
        if (text !== null) return text;
      }
      offset = start + length + 4; // past the data and its CRC
    }
    return null;
  }

  function unquoted(value) {
    if (value.length >= 2 && value[0] === '"' && value[value.length - 1] === '"') {
      try {
        const text = JSON.parse(value);
        if (typeof text === "string") return text;
      } catch (error) {
        // Not JSON after all: keep it as written.
      }
    }
    return value;
  }

  function number(text, parse) {
    if (text === undefined || text.trim() === "") return undefined;
    const value = parse(text);
    return Number.isFinite(value) ? value : undefined;
  }

  // What a "parameters" text says, as {prompt, negative_prompt, steps, sampler, guidance, seed,
  // width, height, strength, model, other}; settings it lacks are left out.
  function parse(text) {
    const lines = text.replace(/\r\n/g, "\n").trim().split("\n");
    let last = lines.pop();
    if ([...last.matchAll(SETTING)].length < SETTINGS_AT_LEAST) {
      lines.push(last);
      last = "";
    }
    const prompt = [];
    const negative = [];
    for (let line of lines) {
      line = line.trim();
      if (!negative.length && line.startsWith(NEGATIVE_PROMPT)) {
        negative.push(line.slice(NEGATIVE_PROMPT.length).trim());
      } else if (negative.length) {
        negative.push(line);
      } else {
        prompt.push(line);
      }
    }
    const settings = {};
    for (const match of last.matchAll(SETTING)) settings[match[1].trim()] = unquoted(match[2].trim());
    const parsed = { prompt: prompt.join("\n"), negative_prompt: negative.join("\n") };
    const take = (key) => { const value = settings[key]; delete settings[key]; return value; };
    const integer = (value) => (/^-?\d+$/.test(value.trim()) ? Number(value) : NaN);
    const known = {
      steps: number(take("Steps"), integer),
      seed: number(take("Seed"), integer),
      guidance: number(take("CFG scale"), Number),
      strength: number(take("Denoising strength"), Number),
    };
    for (const [key, value] of Object.entries(known)) if (value !== undefined) parsed[key] = value;
    const size = /^(\d+)x(\d+)$/.exec(settings.Size || "");
    if (size) {
      take("Size");
      parsed.width = Number(size[1]);
      parsed.height = Number(size[2]);
    }
    if ("Model" in settings) parsed.model = take("Model");
    if ("Sampler" in settings) {
      let label = take("Sampler");
      // AUTOMATIC1111 1.9 and later write "DPM++ 2M" with "Schedule type: Karras".
      const scheduled = `${label} ${settings["Schedule type"] || ""}`.toLowerCase();
      if (scheduled in SAMPLER_NAMES) label = `${label} ${take("Schedule type")}`;
      const name = SAMPLER_NAMES[label.toLowerCase()];
      parsed.sampler = name === undefined ? label : name;
    }
    parsed.other = settings;
    return parsed;
  }

  // The settings a PNG File carries, or null if it carries none.
  async function read(file) {
    const text = await textOf(await file.arrayBuffer());
    if (text === null) return null;
    const parsed = parse(text);
    const settings = ["steps", "seed", "guidance", "width", "height", "sampler", "strength"];
    return parsed.prompt || settings.some((key) => key in parsed) ? parsed : null;
  }

  // The generate page: a PNG dropped onto the form fills in the fields it has.
  const FIELDS = [
    ["prompt", "prompt"],
    ["negative_prompt", "negative prompt"],
    ["width", "width"],
    ["height", "height"],
    ["steps", "steps"],
    ["guidance", "guidance"],
    ["seed", "seed"],
    ["sampler", "sampler"],
    ["strength", "strength"],
  ];

  function fieldSet(element, value) {
    if (element.tagName === "SELECT" && ![...element.options].some((o) => o.value === value)) {
      return false;
    }
    element.value = value;
    element.dispatchEvent(new Event("input", { bubbles: true }));
    return true;
  }

  function formFill(form, parsed) {
    const filled = [];
    const modelField = form.elements.namedItem("model");
    const modelsData = document.getElementById("models-data");
    if (parsed.model && modelField && modelsData) {
      const model = JSON.parse(modelsData.textContent).find(
        (m) => m.name === parsed.model || m.slug === parsed.model,
      );
      if (model && fieldSet(modelField, model.slug)) {
        // The page resets size, steps and guidance to the model's defaults on a change: first.
        modelField.dispatchEvent(new Event("change", { bubbles: true }));
        filled.push("model");
      }
    }
    for (const [key, label] of FIELDS) {
      const element = form.elements.namedItem(key);
      const value = parsed[key];
      if (!element || value === undefined || (key === "prompt" && !value)) continue;
      if (fieldSet(element, String(value))) filled.push(label);
    }
    const details = form.querySelector("details");
    if (details && filled.some((label) => label !== "prompt")) details.open = true;
    return filled;
  }

  function carriesFiles(event) {
    return event.dataTransfer && [...event.dataTransfer.types].includes("Files");
  }

  // Drops meant for a file field of the form (an image to start from) are theirs, not ours.
  function forAFileField(event) {
    return event.target.closest && event.target.closest('input[type="file"], [data-image-drop]');
  }

  function wire() {
    const form = document.getElementById("generate-form");
    const status = document.getElementById("png-settings-status");
    if (!form || !status) return;
    form.addEventListener("dragover", (event) => {
      if (!carriesFiles(event) || forAFileField(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      form.classList.add("dropping");
    });
    form.addEventListener("dragleave", () => form.classList.remove("dropping"));
    form.addEventListener("drop", async (event) => {
      form.classList.remove("dropping");
      if (!carriesFiles(event) || forAFileField(event)) return;
      event.preventDefault();
      const file = event.dataTransfer.files[0];
      if (!file) return;
      if (file.type !== "image/png" && !/\.png$/i.test(file.name)) {
        status.textContent = "That file is not a PNG, so it carries no generation settings.";
        status.dataset.state = "none";
        return;
      }
      const parsed = await read(file).catch(() => null);
      if (!parsed) {
        status.textContent = "That PNG carries no generation settings.";
        status.dataset.state = "none";
        return;
      }
      const filled = formFill(form, parsed);
      status.textContent = filled.length
        ? `Filled in from ${file.name}: ${filled.join(", ")}.`
        : "That PNG carries no generation settings.";
      status.dataset.state = filled.length ? "filled" : "none";
    });
  }

  wire();
  return { SAMPLERS, parse, read, textOf, formFill };
})();
