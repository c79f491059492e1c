/**
 * The Label Studio project of each pipeline whose queue people label: which task field holds the input, the
 * classes (Label Studio choices, in the model's index order), and the labelling config (Label Studio's XML).
 * `driftline label export --format label-studio` writes the config beside the tasks; the names here
 * (`label`, `text`, `image`) are the ones the tasks' predictions and the import refer to.
 */
import { DEFAULT_LABEL_CLASSES } from '../../schemas/label.ts';
import { CHOICES_NAME } from './label-studio-export.ts';

/**
 * NEU-DET's six defect classes in the frames model's index order: the sorted file-name prefixes
 * (models/frames/dataset.ts), the order `driftline models train frames` records in the model.
 */
export const NEU_DET_CLASSES: readonly string[] = [
  'crazing',
  'inclusion',
  'patches',
  'pitted_surface',
  'rolled-in_scale',
  'scratches',
];

export interface LabelStudioProject {
  pipeline: string;
  /** The object tag's name and the task `data` key holding the input (posting text, frame image). */
  input: 'text' | 'image';
  classes: readonly string[];
}

export { CHOICES_NAME };

export const LABEL_STUDIO_PROJECTS: Record<string, LabelStudioProject> = {
  postings: { pipeline: 'postings', input: 'text', classes: DEFAULT_LABEL_CLASSES },
  frames: { pipeline: 'frames', input: 'image', classes: NEU_DET_CLASSES },
};

export function labelStudioProject(pipeline: string): LabelStudioProject {
  const project = LABEL_STUDIO_PROJECTS[pipeline];
  if (!project) {
    const known = Object.keys(LABEL_STUDIO_PROJECTS).join(', ');
    throw new Error(`no Label Studio project for pipeline "${pipeline}": use one of ${known}`);
  }
  return project;
}

const xmlAttribute = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Single-choice classification of the pipeline's input; hotkeys 1..9 pick a class. */
export function labelStudioConfig(project: LabelStudioProject): string {
  const choices = project.classes.map((c, i) => {
    const hotkey = i < 9 ? ` hotkey="${i + 1}"` : '';
    return `    <Choice value="${xmlAttribute(c)}"${hotkey}/>`;
  });
  const input =
    project.input === 'text'
      ? ['  <Header value="$title"/>', '  <Text name="text" value="$text"/>']
      : ['  <Header value="$file"/>', '  <Image name="image" value="$image" zoom="true"/>'];
  return [
    `<!-- driftline ${project.pipeline} labelling queue: one class per task. -->`,
    '<View>',
    ...input,
    `  <Choices name="${CHOICES_NAME}" toName="${project.input}" choice="single" showInline="true" required="true">`,
    ...choices,
    '  </Choices>',
    '</View>',
    '',
  ].join('\n');
}
