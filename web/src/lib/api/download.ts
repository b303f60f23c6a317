// Files behind the API (artifacts, patient files, templates) need the Authorization header, so
// they are fetched as blobs and handed to the browser from an object URL.
import { authFetch } from "./client";
import { apiErrorFromResponse } from "./errors";

export async function fetchBlob(url: string): Promise<Blob> {
  const response = await authFetch(url);
  if (!response.ok) throw await apiErrorFromResponse(response);
  return response.blob();
}

/** The file name of a Content-Disposition header, if it names one. */
export function filenameFrom(disposition: string | null, fallback: string): string {
  if (!disposition) return fallback;
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  if (star) {
    try {
      return decodeURIComponent(star[1]);
    } catch {
      return fallback;
    }
  }
  const plain = /filename="?([^";]+)"?/i.exec(disposition);
  return plain ? plain[1] : fallback;
}

/** Downloads an API file to the person's disk under its server-given (or the fallback) name. */
export async function downloadFile(url: string, fallbackName: string): Promise<void> {
  const response = await authFetch(url);
  if (!response.ok) throw await apiErrorFromResponse(response);
  const name = filenameFrom(response.headers.get("Content-Disposition"), fallbackName);
  const href = URL.createObjectURL(await response.blob());
  try {
    const anchor = document.createElement("a");
    anchor.href = href;
    anchor.download = name;
    anchor.rel = "noopener";
    document.body.appendChild(anchor);
    anchor.click();
    anchor.remove();
  } finally {
    // Give the browser a moment to start the download before the URL goes.
    setTimeout(() => URL.revokeObjectURL(href), 10_000);
  }
}
