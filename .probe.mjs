import sharp from 'sharp';
import { readFileSync, readdirSync } from 'node:fs';
const dir='/work/shared/data/frames/neu-det/images/';
const files=readdirSync(dir).sort().filter((_, i) => i % 3 === 0).slice(0,500).map(f=>readFileSync(dir+f));
sharp.cache(false);
const variants = {
  metadata: (b) => sharp(b).metadata(),
  'grey+resize': (b) => sharp(b).greyscale().resize(64,64,{fit:'fill'}).raw().toBuffer(),
  'resize+grey': (b) => sharp(b).resize(64,64,{fit:'fill'}).greyscale().raw().toBuffer(),
  'resize nearest': (b) => sharp(b).greyscale().resize(64,64,{fit:'fill', kernel:'nearest'}).raw().toBuffer(),
  'resize linear': (b) => sharp(b).greyscale().resize(64,64,{fit:'fill', kernel:'linear'}).raw().toBuffer(),
  'extractChannel0': (b) => sharp(b).extractChannel(0).resize(64,64,{fit:'fill'}).raw().toBuffer(),
  'shrink to 100 only': (b) => sharp(b).resize(100,100,{fit:'fill', kernel:'nearest'}).extractChannel(0).raw().toBuffer(),
  'raw decode only': (b) => sharp(b).raw().toBuffer(),
};
for (const [name, fn] of Object.entries(variants)) {
  const rates=[];
  for (let r=0;r<3;r++){const t=performance.now(); await Promise.all(files.map(fn)); rates.push(Math.round(500/((performance.now()-t)/1000)));}
  console.log(name.padEnd(20), rates.join(' '));
}
