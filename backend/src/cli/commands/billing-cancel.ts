import { cancelRun } from '../../billing/runs';
import { billingRunActionCommand } from '../billing-run-action';

export default billingRunActionCommand('billing:cancel', 'Cancel a billing run: attempts not yet sent are cancelled', cancelRun);
