import { getAtt, pascal, ref, sub, type Json, type Resource, type Resources } from './cloudFormation.ts'

/** What an operator sets of the operations: who hears of an alarm, and when it fires. */
export interface OperationsSettings {
  readonly service: string
  readonly stage: string
  /** An email address that hears of every alarm (confirmed once); empty: the SNS topic only. */
  readonly alarmEmail: string
  readonly alarmErrorRate: number
  readonly alarmOldestChunkSeconds: number
}

const ALARM_DEFAULTS = {
  EvaluationPeriods: 1,
  TreatMissingData: 'notBreaching',
  AlarmActions: [ref('AlarmTopic')],
} as const

function alarm(properties: Record<string, Json>): Resource {
  return { Type: 'AWS::CloudWatch::Alarm', Properties: { ...properties, ...ALARM_DEFAULTS } }
}

const FIVE_MINUTES = 300
const atLeastOnce = { Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' } as const

// A function that ran this share of its timeout was close to being cut short.
export const DURATION_ALARM_SHARE = 0.8

/** A function's alarms: any failed invocation, any throttle, and a run past 80 % of its timeout. */
export function functionAlarms(name: string, timeoutSeconds: number): Resources {
  const dimensions = [{ Name: 'FunctionName', Value: ref(`${pascal(name)}LambdaFunction`) }]
  const lambdaMetric = (MetricName: string, Statistic: string) => ({ Namespace: 'AWS/Lambda', MetricName, Dimensions: dimensions, Statistic, Period: FIVE_MINUTES })
  return {
    [`${pascal(name)}ErrorsAlarm`]: alarm({
      AlarmDescription: `${name}: an invocation failed (an unexpected error, a timeout or a crash): see its log group`,
      ...lambdaMetric('Errors', 'Sum'),
      ...atLeastOnce,
    }),
    [`${pascal(name)}ThrottlesAlarm`]: alarm({
      AlarmDescription: `${name}: invocations were throttled at its reserved concurrency`,
      ...lambdaMetric('Throttles', 'Sum'),
      ...atLeastOnce,
    }),
    [`${pascal(name)}DurationAlarm`]: alarm({
      AlarmDescription: `${name}: an invocation ran past 80 % of its timeout`,
      ...lambdaMetric('Duration', 'Maximum'),
      Threshold: Math.round(timeoutSeconds * 1000 * DURATION_ALARM_SHARE),
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    }),
  }
}

// The triggers whose runs publish ok / notFound / error with a `trigger` dimension.
const TRIGGERS = ['http', 'sqs'] as const

const downloadMetric = (name: string, trigger: string) => ({ Namespace: 'imgpull', MetricName: name, Dimensions: [{ Name: 'service', Value: 'imgpull' }, { Name: 'trigger', Value: trigger }] })

/** Where alarms go, and the alarms on the stack as a whole: error rates, queues, the API. */
export function stackAlarms(settings: OperationsSettings): Resources {
  const errorRates = Object.fromEntries(
    TRIGGERS.map((trigger) => [
      `DownloadErrorRate${pascal(trigger)}Alarm`,
      alarm({
        AlarmDescription: `more than alarmErrorRate of the codes downloaded by ${trigger} ended as error: look at the image failed log lines`,
        Metrics: [
          { Id: 'failed', ReturnData: false, MetricStat: { Metric: downloadMetric('error', trigger), Period: FIVE_MINUTES, Stat: 'Sum' } },
          { Id: 'stored', ReturnData: false, MetricStat: { Metric: downloadMetric('ok', trigger), Period: FIVE_MINUTES, Stat: 'Sum' } },
          { Id: 'missing', ReturnData: false, MetricStat: { Metric: downloadMetric('notFound', trigger), Period: FIVE_MINUTES, Stat: 'Sum' } },
          { Id: 'rate', Expression: 'failed / (failed + stored + missing)', ReturnData: true },
        ],
        Threshold: settings.alarmErrorRate,
        ComparisonOperator: 'GreaterThanThreshold',
      }),
    ]),
  )
  const queueMetric = (queue: string, MetricName: string, Statistic: string) => ({ Namespace: 'AWS/SQS', MetricName, Dimensions: [{ Name: 'QueueName', Value: getAtt(queue, 'QueueName') }], Statistic, Period: FIVE_MINUTES })
  return {
    AlarmTopic: { Type: 'AWS::SNS::Topic', Properties: { DisplayName: `${settings.service} ${settings.stage} alarms` } },
    // Decided when the stack is packaged: a subscriber only where an operator named one.
    ...(settings.alarmEmail === ''
      ? {}
      : { AlarmEmailSubscription: { Type: 'AWS::SNS::Subscription', Properties: { TopicArn: ref('AlarmTopic'), Protocol: 'email', Endpoint: settings.alarmEmail } } }),
    ...errorRates,
    DeadLettersNotEmptyAlarm: alarm({
      // deadLetters takes each message at once, so the queue is seldom seen holding one: its receives count.
      AlarmDescription: 'a job chunk reached the dead-letter queue (its codes are counted error, dead_letter): see the deadLetters and worker logs',
      ...queueMetric('JobsDeadLetterQueue', 'NumberOfMessagesReceived', 'Sum'),
      ...atLeastOnce,
    }),
    OldestChunkAlarm: alarm({
      AlarmDescription: 'the oldest chunk in the jobs queue is older than alarmOldestChunkSeconds: workers are throttled, failing or too few',
      ...queueMetric('JobsQueue', 'ApproximateAgeOfOldestMessage', 'Maximum'),
      Threshold: settings.alarmOldestChunkSeconds,
      ComparisonOperator: 'GreaterThanThreshold',
    }),
    ScheduleFailuresAlarm: alarm({
      AlarmDescription: 'a scheduled job failed three times and was kept in the schedule failures queue: its message holds the event and the error',
      ...queueMetric('ScheduleFailuresQueue', 'ApproximateNumberOfMessagesVisible', 'Maximum'),
      ...atLeastOnce,
    }),
    Api5xxAlarm: alarm({
      AlarmDescription: 'the HTTP API answered 5xx: a function failed unexpectedly or timed out behind it',
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Dimensions: [{ Name: 'ApiId', Value: ref('HttpApi') }],
      Statistic: 'Sum',
      Period: FIVE_MINUTES,
      ...atLeastOnce,
    }),
  }
}

/** The dashboard: images per second, outcomes, bytes, latency per image, and the job backlog. */
export function dashboard(settings: OperationsSettings): Resources {
  const widget = (x: number, y: number, width: number, properties: Record<string, unknown>) => ({ type: 'metric', x, y, width, height: 6, properties: { ...properties, region: '${AWS::Region}' } })
  const metric = (name: string, trigger: string, options?: Record<string, unknown>) => ['imgpull', name, 'service', 'imgpull', 'trigger', trigger, ...(options === undefined ? [] : [options])]
  const queueMetric = (name: string, queue: string, options?: Record<string, unknown>) => ['AWS/SQS', name, 'QueueName', `\${${queue}.QueueName}`, ...(options === undefined ? [] : [options])]
  const widgets = [
    widget(0, 0, 12, {
      title: 'images stored per second',
      stat: 'Sum',
      period: 60,
      metrics: [[{ expression: '(FILL(m1, 0) + FILL(m2, 0)) / 60', label: 'images/s', id: 'e1' }], metric('ok', 'http', { id: 'm1', visible: false }), metric('ok', 'sqs', { id: 'm2', visible: false })],
    }),
    widget(12, 0, 12, { title: 'ok, not_found, error', stat: 'Sum', period: 300, metrics: ['sqs', 'http'].flatMap((trigger) => ['ok', 'notFound', 'error'].map((name) => metric(name, trigger))) }),
    widget(0, 6, 8, { title: 'bytes stored', stat: 'Sum', period: 300, metrics: [metric('bytesStored', 'sqs'), metric('bytesStored', 'http')] }),
    widget(8, 6, 8, {
      title: 'download latency per image (ms)',
      period: 300,
      metrics: [metric('downloadLatency', 'sqs', { stat: 'p50' }), metric('downloadLatency', 'sqs', { stat: 'p99' }), metric('downloadLatency', 'http', { stat: 'p99' })],
    }),
    widget(16, 6, 8, {
      title: 'job backlog',
      stat: 'Maximum',
      period: 60,
      metrics: [
        queueMetric('ApproximateNumberOfMessagesVisible', 'JobsQueue'),
        queueMetric('ApproximateAgeOfOldestMessage', 'JobsQueue', { yAxis: 'right' }),
        queueMetric('ApproximateNumberOfMessagesVisible', 'JobsDeadLetterQueue'),
      ],
    }),
  ]
  return {
    Dashboard: {
      Type: 'AWS::CloudWatch::Dashboard',
      Properties: { DashboardName: `${settings.service}-${settings.stage}`, DashboardBody: sub(JSON.stringify({ widgets })) },
    },
  }
}
