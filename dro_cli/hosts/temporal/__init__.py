"""dro on a Temporal cluster (docs/temporal.md): the workflow that hosts the engine, the activity that runs
steps, the worker, and the client side of the verbs. Needs the `temporal` extra: `pip install 'dro[temporal]'`.

Importing this package loads nothing; its modules import temporalio, so only `--engine temporal` and
`dro worker` load them.
"""

WORKFLOW = "DroOrder"  # the workflow type: one per order, its workflow id the order id
ACTIVITY = "dro.run_step"  # the activity type: one attempt of one auto or callout step
DEFAULT_TASK_QUEUE = "dro"
HEARTBEAT_EVERY = 1.0  # seconds between a running step's heartbeats
HEARTBEAT_TIMEOUT = 5.0  # seconds without one after which Temporal takes the attempt as lost
