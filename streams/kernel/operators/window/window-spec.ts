// The window specs live with the windower in streams/ (the engine's own windows); kept here for operator imports.
export * from '../../windower-spec.ts';
