import { Pipe, type PipeTransform } from '@angular/core';
import { ageText } from './clock';

/** kubectl's AGE of a timestamp at `now` (pass clock.now() of followClock() so the age moves on): "95s", "3m20s", "4d". */
@Pipe({ name: 'age' })
export class AgePipe implements PipeTransform {
  transform(timestamp: string | undefined, now: Date): string {
    return ageText(timestamp, now);
  }
}
