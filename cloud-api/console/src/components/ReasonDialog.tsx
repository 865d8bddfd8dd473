import { useMutation } from '@tanstack/react-query';
import { type ReactNode, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Modal } from './Modal.tsx';
import { Field } from './ui.tsx';

/**
 * An action that takes a few words of why — revoke a pass, command a gate,
 * forgive a passback, acknowledge or clear an alarm — in one modal: the
 * explanation, one text field, Cancel and the verb. A required text is refused
 * here before anything is sent; the server's refusal shows on the field.
 */
export function ReasonDialog<T>({
  title,
  intro,
  label,
  required,
  requiredMessage,
  placeholder,
  multiline,
  maxLength = 500,
  verb,
  danger,
  onSubmit,
  onClose,
  onDone,
}: {
  title: string;
  /** What the action does, above the field. */
  intro?: ReactNode;
  /** The field's label; a required one gets its asterisk here. */
  label: string;
  required: boolean;
  /** Said when a required text is left blank. */
  requiredMessage?: string;
  placeholder?: string;
  /** A note of a few lines rather than a one-line reason. */
  multiline?: boolean;
  maxLength?: number;
  verb: string;
  /** The verb's button (and the dialog's edge) in the danger colour. */
  danger?: boolean;
  /** Sends the action with the trimmed text ('' when none was given and none is required). */
  onSubmit: (text: string) => Promise<T>;
  onClose: () => void;
  onDone: (result: T) => void;
}) {
  const { t } = useTranslation('common');
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  const send = useMutation({ mutationFn: onSubmit, onSuccess: onDone, onError: (e) => setError(e.message) });
  const submit = () => {
    const value = text.trim();
    if (required && !value) {
      setError(requiredMessage ?? t('form.required'));
      return;
    }
    send.mutate(value);
  };
  const fieldProps = {
    id,
    value: text,
    maxLength,
    placeholder,
    'aria-invalid': !!error,
    'aria-describedby': error ? `${id}-error` : undefined,
    onChange: (e: { target: { value: string } }) => {
      setText(e.target.value);
      if (error) setError(null);
    },
  };
  return (
    <Modal
      title={title}
      onClose={onClose}
      tone={danger ? 'danger' : 'primary'}
      footer={
        <>
          <button type="button" onClick={onClose}>
            {t('cancel')}
          </button>
          <button type="button" className={danger ? 'danger' : 'primary'} onClick={submit} disabled={send.isPending}>
            {verb}
          </button>
        </>
      }
    >
      {intro ? <p>{intro}</p> : null}
      <Field id={id} label={required ? `${label} *` : label} error={error}>
        {multiline ? <textarea rows={3} {...fieldProps} /> : <input {...fieldProps} />}
      </Field>
    </Modal>
  );
}
