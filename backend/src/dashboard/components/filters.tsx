/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** The fields of the list pages' filter forms (GET parameters, so a filtered list can be linked). */
import type { FC } from 'hono/jsx';

/** A choice among `options`; the empty choice, "any", filters nothing. */
export const ChoiceFilter: FC<{ label: string; name: string; options: readonly string[]; selected: string | undefined }> = ({ label, name, options, selected }) => (
  <label>
    {label}
    <select name={name}>
      <option value="">any</option>
      {options.map((option) => (
        <option value={option} selected={option === selected}>
          {option}
        </option>
      ))}
    </select>
  </label>
);

/** Two dates, `from` and `to` (both days included), under `label`, e.g. "Created from … to …". */
export const DateRangeFilter: FC<{ label: string; from: string | undefined; to: string | undefined }> = ({ label, from, to }) => (
  <>
    <label>
      {label}
      <input type="date" name="from" value={from ?? ''} />
    </label>
    <label>
      to
      <input type="date" name="to" value={to ?? ''} />
    </label>
  </>
);
