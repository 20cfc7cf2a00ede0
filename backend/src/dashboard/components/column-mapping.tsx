/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** The mapping step of the upload form: for each field, the column that holds it. */
import { DEBTOR_FIELDS, REQUIRED_DEBTOR_FIELDS, type DebtorField } from '@tether/shared/debtor-columns';
import type { FC } from 'hono/jsx';
import { DELIMITERS, type Delimiter } from '../../uploads/csv-dialect';
import { TEXT_ENCODINGS } from '../../uploads/text-inspection';
import type { ColumnPreview } from '../column-preview';

const DELIMITER_NAMES: Record<Delimiter, string> = { ',': 'comma', ';': 'semicolon', '\t': 'tab' };

const fieldLabel = (field: string) => `${field.replace(/_/g, ' ')}${REQUIRED_DEBTOR_FIELDS.includes(field as never) ? ' *' : ''}`;

/** For each field, a choice among the file's headers, the recognised one (or the current mapping's) preselected. */
const FieldSelects: FC<{ headers: readonly string[]; selected: Partial<Record<DebtorField, string>> }> = ({ headers, selected }) => (
  <div class="mapping">
    {DEBTOR_FIELDS.map((field) => (
      <label>
        {fieldLabel(field)}
        <select name={`map.${field}`} data-field={field}>
          <option value="">— not in the file —</option>
          {headers.map((header) => (
            <option value={header} selected={selected[field] === header}>
              {header}
            </option>
          ))}
        </select>
      </label>
    ))}
  </div>
);

export const CsvMapping: FC<{ preview: ColumnPreview }> = ({ preview }) => {
  if (!preview.ok) return <p class="notice bad">{preview.problem}</p>;
  return (
    <>
      <p class="stat-label">
        {preview.headers.length} columns, {preview.encoding}, {DELIMITER_NAMES[preview.delimiter]}-separated. Recognised columns are preselected; * is
        required.
      </p>
      <FieldSelects headers={preview.headers} selected={preview.suggested} />
      <div class="filters">
        <label>
          Encoding
          <select name="encoding">
            <option value="">as detected ({preview.encoding})</option>
            {TEXT_ENCODINGS.map((encoding) => (
              <option value={encoding}>{encoding}</option>
            ))}
          </select>
        </label>
        <label>
          Delimiter
          <select name="delimiter">
            <option value="">as detected ({DELIMITER_NAMES[preview.delimiter]})</option>
            {DELIMITERS.map((delimiter) => (
              <option value={delimiter}>{DELIMITER_NAMES[delimiter]}</option>
            ))}
          </select>
        </label>
      </div>
    </>
  );
};

/** A stored XLSX's header row, read from its first sheet row (uploads/recovery.ts): mapped like a CSV's. */
export const XlsxHeaderMapping: FC<{ headers: readonly string[]; selected: Partial<Record<DebtorField, string>> }> = ({ headers, selected }) => (
  <>
    <p class="stat-label">{headers.length} columns in the first sheet. Recognised columns are preselected; * is required.</p>
    <FieldSelects headers={headers} selected={selected} />
  </>
);

/** An XLSX's header row cannot be read before it is uploaded: columns are named, or recognised by name. */
export const XlsxMapping: FC = () => (
  <>
    <p class="stat-label">Columns are recognised by their header names. Name a column only where its header is not recognised; * is required.</p>
    <div class="mapping">
      {DEBTOR_FIELDS.map((field) => (
        <label>
          {fieldLabel(field)}
          <input name={`map.${field}`} data-field={field} placeholder="recognised by name" />
        </label>
      ))}
    </div>
  </>
);
