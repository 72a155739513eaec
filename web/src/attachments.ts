// Attachments (ATT-1..3): a file picker that uploads each file at once through its
// presigned URL, with a progress bar per file, and the download of a stored file.

import { ApiError, uploadFile } from "./api";
import { type AppContext, errorText } from "./app";
import { formatSize, h, uid } from "./dom";
import type { Attachment, Upload } from "./types";

const MAX_BYTES = 10 * 1024 * 1024;

export class AttachmentPicker {
  readonly element: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly ready = new Map<string, string>();
  private pending = 0;
  private changed: () => void = () => {};

  constructor(
    private readonly ctx: AppContext,
    private readonly conversationId?: string,
  ) {
    const id = uid("attach");
    const input = h("input", { type: "file", id, multiple: true, class: "file-input" });
    input.addEventListener("change", () => {
      for (const file of Array.from(input.files ?? [])) void this.add(file);
      input.value = "";
    });
    this.list = h("ul", { class: "uploads", "aria-label": "Attachments" });
    this.element = h("div", { class: "attachments-field" }, h("label", { for: id, class: "file-label" }, "Attach files"), input, this.list);
  }

  onChange(fn: () => void): void {
    this.changed = fn;
  }

  get busy(): boolean {
    return this.pending > 0;
  }

  get ids(): string[] {
    return [...this.ready.values()];
  }

  clear(): void {
    this.ready.clear();
    this.list.replaceChildren();
  }

  private async add(file: File): Promise<void> {
    const progress = h("progress", { max: 1, value: 0, "aria-label": `Uploading ${file.name}` });
    const state = h("span", { class: "upload-state" }, "Uploading…");
    const key = uid("file");
    const remove = h("button", { type: "button", class: "link", "aria-label": `Remove ${file.name}` }, "Remove");
    const row = h("li", { class: "upload" }, h("span", { class: "file-name" }, file.name), " ", h("span", { class: "muted" }, formatSize(file.size)), progress, state, remove);
    remove.addEventListener("click", () => {
      this.ready.delete(key);
      row.remove();
      this.changed();
    });
    this.list.append(row);
    if (file.size > MAX_BYTES) {
      state.textContent = "Too large: files may be at most 10 MB.";
      progress.remove();
      return;
    }
    this.pending += 1;
    this.changed();
    try {
      const created = await this.ctx.api.create<{ attachment: Attachment; upload: Upload }>("/attachments", {
        fileName: file.name,
        contentType: file.type || "application/octet-stream",
        size: file.size,
        ...(this.conversationId ? { conversationId: this.conversationId } : {}),
      });
      await uploadFile(created.upload, file, (f) => (progress.value = f));
      this.ready.set(key, created.attachment.id);
      state.textContent = "Uploaded";
      this.ctx.announce(`${file.name} uploaded`);
    } catch (e) {
      state.textContent = errorText(e);
      progress.remove();
    } finally {
      this.pending -= 1;
      this.changed();
    }
  }
}

/** A download button: asks for a fresh presigned link (they expire) and follows it. */
export function attachmentLink(ctx: AppContext, a: Attachment): HTMLElement {
  const label = `${a.fileName} (${formatSize(a.size)})`;
  if (a.status === "rejected") return h("span", { class: "attachment rejected" }, label, " — rejected");
  const button = h("button", { type: "button", class: "attachment", "data-attachment": a.id }, "⬇ ", label);
  button.addEventListener("click", async () => {
    try {
      const found = await ctx.api.get<{ download: { url: string } }>(`/attachments/${a.id}`);
      // The presigned link is on the bucket's origin, where `download` is ignored: fetch it
      // and save it from this origin instead, so the page is never navigated away.
      const response = await fetch(found.download.url);
      if (!response.ok) throw new Error("download failed");
      const url = URL.createObjectURL(await response.blob());
      const link = h("a", { href: url, download: a.fileName });
      document.body.append(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      ctx.announce(e instanceof ApiError ? errorText(e) : "The file could not be downloaded.");
    }
  });
  return button;
}
