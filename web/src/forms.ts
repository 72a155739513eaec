// The form pieces the screens share: a modal dialog and labelled controls.

import { type AppContext, errorText } from "./app";
import { type Child, h, uid } from "./dom";

/** A modal dialog: focus moves in, Escape closes, focus returns to the opener. */
export function modalDialog(title: string, content: Child[], action: string, submit: () => Promise<void>): Promise<void> {
  const opener = document.activeElement as HTMLElement | null;
  const titleId = uid("dialog-title");
  const error = h("p", { class: "error", role: "alert" });
  const ok = h("button", { type: "submit" }, action);
  const cancel = h("button", { type: "button", class: "secondary" }, "Cancel");
  const form = h("form", { method: "dialog" }, h("h2", { id: titleId }, title), content, error, h("div", { class: "form-actions" }, cancel, ok));
  const dialog = h("dialog", { "aria-labelledby": titleId }, form);
  document.body.append(dialog);
  return new Promise((resolve) => {
    const close = () => {
      dialog.close();
      dialog.remove();
      opener?.focus();
      resolve();
    };
    cancel.addEventListener("click", close);
    dialog.addEventListener("cancel", (e) => {
      e.preventDefault();
      close();
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      ok.disabled = true;
      error.textContent = "";
      try {
        await submit();
        close();
      } catch (err) {
        error.textContent = err instanceof Error && !("status" in err) ? err.message : errorText(err);
        ok.disabled = false;
      }
    });
    dialog.showModal();
  });
}

export function checkbox(text: string, checked: boolean, value = "on"): { label: HTMLLabelElement; input: HTMLInputElement } {
  const input = h("input", { type: "checkbox", checked, value });
  return { input, label: h("label", { class: "check" }, input, " ", text) };
}

export function select(text: string, values: string[], labels: string[]): { label: HTMLLabelElement; input: HTMLSelectElement } {
  const input = h("select", null, values.map((v, i) => h("option", { value: v }, labels[i])));
  return { input, label: h("label", { class: "inline" }, text, " ", input) };
}

/** One change of an administration screen: says it is done (to screen readers too) or shows
 * the refusal, then shows the list as it now is. Cached staff and workgroups are read again. */
export async function applyChange(
  ctx: AppContext,
  error: HTMLElement,
  done: string,
  change: () => Promise<unknown>,
  reload: () => Promise<void>,
): Promise<void> {
  error.textContent = "";
  try {
    await change();
    ctx.forgetDirectory();
    ctx.announce(done);
  } catch (e) {
    error.textContent = errorText(e);
  }
  await reload();
}
