// react-i18next with Korean and English. Every string a person reads comes from locales/*.json
// (a unit test checks both files have the same keys and that every key the code uses exists).
// The choice is remembered in localStorage; the first visit follows the browser's language.
import i18n from "i18next";
import { initReactI18next } from "react-i18next";

import en from "./locales/en.json";
import ko from "./locales/ko.json";

export const LANGUAGES = ["ko", "en"] as const;
export type Language = (typeof LANGUAGES)[number];

const STORAGE_KEY = "cdss.lang";

function isLanguage(value: unknown): value is Language {
  return typeof value === "string" && (LANGUAGES as readonly string[]).includes(value);
}

function stored(): string | null {
  try {
    return window.localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function initialLanguage(): Language {
  const remembered = typeof window === "undefined" ? null : stored();
  if (isLanguage(remembered)) return remembered;
  const browser = typeof navigator === "undefined" ? "" : navigator.language.toLowerCase();
  return browser.startsWith("ko") ? "ko" : "en";
}

export async function setLanguage(language: Language): Promise<void> {
  try {
    window.localStorage.setItem(STORAGE_KEY, language);
  } catch {
    // Storage disabled: the choice lasts for this page.
  }
  await i18n.changeLanguage(language);
}

export const resources = { en: { translation: en }, ko: { translation: ko } } as const;

i18n.on("languageChanged", (language) => {
  if (typeof document !== "undefined") document.documentElement.lang = language;
});

void i18n.use(initReactI18next).init({
  resources,
  lng: initialLanguage(),
  fallbackLng: "en",
  supportedLngs: [...LANGUAGES],
  interpolation: { escapeValue: false }, // React escapes
  initAsync: false,
});

export default i18n;
