import type { ComponentChildren } from 'preact';

/** For text taken literally (JSON, names, tokens): no spellcheck, autofill, autocapitalising or autocorrecting. */
export const LITERAL_INPUT = {
  spellcheck: false,
  autocapitalize: 'off',
  autocomplete: 'off',
  autocorrect: 'off',
} as const;

/** The attributes that tie a control to its hint and error, so a screen reader reads them with the control. */
export function describedBy(id: string, hint: boolean, error: string | undefined) {
  const ids = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean);
  return {
    id,
    'aria-describedby': ids.length ? ids.join(' ') : undefined,
    'aria-invalid': error ? true : undefined,
  };
}

interface FieldProps {
  id: string;
  label: ComponentChildren;
  hint?: ComponentChildren;
  error?: string;
  children: ComponentChildren;
  wide?: boolean;
}

/** A labelled control with its hint and, beneath it, what is wrong with it (the page's check or the API's). */
export function Field({ id, label, hint, error, children, wide }: FieldProps) {
  return (
    <div class={wide ? 'field field-wide' : 'field'}>
      <label for={id}>{label}</label>
      {children}
      {hint && (
        <p id={`${id}-hint`} class="hint">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} class="field-error">
          {error}
        </p>
      )}
    </div>
  );
}
