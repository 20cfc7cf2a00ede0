import { resumeRun } from '../../billing/runs';
import { billingRunActionCommand } from '../billing-run-action';

export default billingRunActionCommand('billing:resume', 'Resume a paused billing run (also one the circuit breaker paused)', resumeRun);
